using System.Globalization;
using System.Text.Json;

namespace MaaS.Server.Tests.Infrastructure;

/// <summary>
/// A V2 inference response read the way tritonclient.http reads it: with Inference-Header-Content-Length, the first n
/// bytes are JSON and the binary outputs follow in output order, each <c>parameters.binary_data_size</c> long.
/// </summary>
public sealed class InferReply
{
    private InferReply(JsonElement json, Dictionary<string, byte[]> binary)
    {
        Json = json;
        Binary = binary;
    }

    public JsonElement Json { get; }

    /// <summary>The outputs that came as binary, by name.</summary>
    public IReadOnlyDictionary<string, byte[]> Binary { get; }

    public IEnumerable<JsonElement> Outputs => Json.GetProperty("outputs").EnumerateArray();

    public static async Task<InferReply> ReadAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsByteArrayAsync();
        var headerLength = body.Length;
        if (response.Headers.TryGetValues(V2Requests.HeaderLength, out var values)
            || response.Content.Headers.TryGetValues(V2Requests.HeaderLength, out values))
        {
            headerLength = int.Parse(values.Single(), CultureInfo.InvariantCulture);
        }

        using var document = JsonDocument.Parse(body.AsMemory(0, headerLength));
        var json = document.RootElement.Clone();
        var binary = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        var offset = headerLength;
        foreach (var output in json.GetProperty("outputs").EnumerateArray())
        {
            if (output.TryGetProperty("parameters", out var parameters) && parameters.TryGetProperty("binary_data_size", out var size))
            {
                var length = size.GetInt32();
                binary[output.GetProperty("name").GetString()!] = body[offset..(offset + length)];
                offset += length;
            }
        }

        offset.Should().Be(body.Length, "the binary outputs fill the body after the JSON header, nothing more");
        return new InferReply(json, binary);
    }

    public JsonElement Output(string name)
    {
        var matches = Outputs.Where(output => output.GetProperty("name").GetString() == name).ToList();
        matches.Should().ContainSingle("the response should hold output '{0}' once", name);
        return matches[0];
    }

    /// <summary>The output's elements, from its JSON <c>data</c> or its binary blob.</summary>
    public List<object> Values(string name)
    {
        var output = Output(name);
        var datatype = output.GetProperty("datatype").GetString()!;
        return Binary.TryGetValue(name, out var bytes)
            ? TensorValues.FromBinary(bytes, datatype)
            : TensorValues.FromJson(output.GetProperty("data"), datatype);
    }

    /// <summary>Asserts the output's datatype, shape and elements against the reference.</summary>
    public void ShouldMatch(ReferenceTensor expected, double tolerance)
    {
        var output = Output(expected.Name);
        output.GetProperty("datatype").GetString().Should().Be(expected.Datatype, "output '{0}' datatype", expected.Name);
        output.GetProperty("shape").EnumerateArray().Select(dim => dim.GetInt64()).Should()
            .Equal(expected.Shape, "output '{0}' shape", expected.Name);
        Values(expected.Name).ShouldMatch(expected, tolerance);
    }
}
