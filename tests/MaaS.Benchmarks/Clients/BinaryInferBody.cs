using System.Text.Json;

namespace MaaS.Benchmarks.Clients;

/// <summary>
/// A V2 request body with the binary tensor extension (a JSON header of <see cref="HeaderLength"/> bytes, then each
/// input's bytes in the order of <c>inputs</c>) and what its header says, so the gRPC client can send the very tensors
/// the HTTP client sends. Every input must be binary and the header must name the outputs to return.
/// </summary>
internal sealed class BinaryInferBody
{
    private BinaryInferBody(byte[] bytes, int headerLength, IReadOnlyList<BinaryInput> inputs, IReadOnlyList<string> outputs)
    {
        Bytes = bytes;
        HeaderLength = headerLength;
        Inputs = inputs;
        Outputs = outputs;
    }

    public byte[] Bytes { get; }

    public int HeaderLength { get; }

    public IReadOnlyList<BinaryInput> Inputs { get; }

    public IReadOnlyList<string> Outputs { get; }

    public static BinaryInferBody Parse(byte[] bytes, int headerLength)
    {
        if (headerLength < 2 || headerLength > bytes.Length)
        {
            throw new ArgumentException($"--header-length must be between 2 and the body's {bytes.Length} bytes, not {headerLength}");
        }

        using var header = JsonDocument.Parse(bytes.AsMemory(0, headerLength));
        var root = header.RootElement;
        var inputs = new List<BinaryInput>();
        var offset = headerLength;
        foreach (var input in Items(root, "inputs"))
        {
            var name = input.GetProperty("name").GetString()!;
            if (!input.TryGetProperty("parameters", out var parameters)
                || !parameters.TryGetProperty("binary_data_size", out var size)
                || !size.TryGetInt32(out var length) || length < 0 || length > bytes.Length - offset)
            {
                throw new FormatException($"input '{name}' needs a binary_data_size that fits in the body");
            }

            inputs.Add(new BinaryInput(
                name,
                input.GetProperty("datatype").GetString()!,
                [.. input.GetProperty("shape").EnumerateArray().Select(dim => dim.GetInt64())],
                bytes.AsMemory(offset, length)));
            offset += length;
        }

        if (offset != bytes.Length)
        {
            throw new FormatException($"the inputs take {offset - headerLength} bytes after the header, the body has {bytes.Length - headerLength}");
        }

        List<string> outputs = [.. Items(root, "outputs").Select(output => output.GetProperty("name").GetString()!)];
        return inputs.Count == 0 || outputs.Count == 0
            ? throw new FormatException("the header must list the inputs and the outputs to return")
            : new BinaryInferBody(bytes, headerLength, inputs, outputs);
    }

    private static IEnumerable<JsonElement> Items(JsonElement root, string name) =>
        root.TryGetProperty(name, out var array) && array.ValueKind == JsonValueKind.Array ? array.EnumerateArray() : Enumerable.Empty<JsonElement>();
}

/// <summary>One input tensor of a <see cref="BinaryInferBody"/>: its raw little-endian bytes within the body.</summary>
internal sealed record BinaryInput(string Name, string DataType, long[] Shape, ReadOnlyMemory<byte> Data);
