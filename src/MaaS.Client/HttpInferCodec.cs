using System.Buffers;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;

namespace MaaS.Client;

/// <summary>The V2 inference request and response over HTTP, JSON or with the binary tensor extension.</summary>
internal static class HttpInferCodec
{
    public static HttpContent EncodeRequest(IReadOnlyList<InferInput> inputs, InferOptions options) => EncodeRequest(inputs, options, null);

    /// <summary>The request; <paramref name="writeParameters"/> adds request parameters (an explanation's).</summary>
    public static HttpContent EncodeRequest(IReadOnlyList<InferInput> inputs, InferOptions options, Action<Utf8JsonWriter>? writeParameters)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var header = new ArrayBufferWriter<byte>(1024);
        var binaryLength = 0L;
        using (var writer = new Utf8JsonWriter(header))
        {
            writer.WriteStartObject();
            if (options.Id is not null)
            {
                writer.WriteString("id", options.Id);
            }

            writer.WriteStartObject("parameters");
            writer.WriteBoolean("binary_data_output", options.Binary);
            writeParameters?.Invoke(writer);
            writer.WriteEndObject();
            writer.WriteStartArray("inputs");
            foreach (var input in inputs)
            {
                writer.WriteStartObject();
                writer.WriteString("name", input.Name);
                writer.WriteString("datatype", input.Datatype);
                writer.WriteStartArray("shape");
                foreach (var dim in input.Shape)
                {
                    writer.WriteNumberValue(dim);
                }

                writer.WriteEndArray();
                if (SendsBinary(input, options))
                {
                    writer.WriteStartObject("parameters");
                    writer.WriteNumber("binary_data_size", input.Data.Length);
                    writer.WriteEndObject();
                    binaryLength += input.Data.Length;
                }
                else
                {
                    writer.WritePropertyName("data");
                    TensorLayout.WriteJson(writer, input.Datatype, input.Data.Span);
                }

                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            if (options.Outputs is { } outputs)
            {
                writer.WriteStartArray("outputs");
                foreach (var output in outputs)
                {
                    writer.WriteStartObject();
                    writer.WriteString("name", output.Name);
                    writer.WriteStartObject("parameters");
                    writer.WriteBoolean("binary_data", output.Binary ?? options.Binary);
                    if (output.Classification is { } k)
                    {
                        writer.WriteNumber("classification", k);
                    }

                    writer.WriteEndObject();
                    writer.WriteEndObject();
                }

                writer.WriteEndArray();
            }

            writer.WriteEndObject();
        }

        var body = new byte[checked(header.WrittenCount + binaryLength)];
        header.WrittenSpan.CopyTo(body);
        var offset = header.WrittenCount;
        foreach (var input in inputs)
        {
            if (SendsBinary(input, options))
            {
                input.Data.Span.CopyTo(body.AsSpan(offset));
                offset += input.Data.Length;
            }
        }

        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue(binaryLength > 0 ? "application/octet-stream" : "application/json");
        if (binaryLength > 0)
        {
            content.Headers.Add("Inference-Header-Content-Length", header.WrittenCount.ToString(CultureInfo.InvariantCulture));
        }

        return content;
    }

    public static InferResult DecodeResponse(byte[] body, int headerLength)
    {
        if (headerLength < 0 || headerLength > body.Length)
        {
            throw new MaaSException(null, $"the server's Inference-Header-Content-Length {headerLength} does not fit its {body.Length}-byte answer");
        }

        try
        {
            using var document = JsonDocument.Parse(body.AsMemory(0, headerLength));
            var root = document.RootElement;
            var outputs = new List<InferOutput>();
            var offset = headerLength;
            if (root.TryGetProperty("outputs", out var items))
            {
                foreach (var item in items.EnumerateArray())
                {
                    var name = item.GetProperty("name").GetString()!;
                    var datatype = item.GetProperty("datatype").GetString()!;
                    var shape = item.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()).ToArray();
                    ReadOnlyMemory<byte> data;
                    if (item.TryGetProperty("parameters", out var parameters) && parameters.TryGetProperty("binary_data_size", out var size))
                    {
                        var length = size.GetInt32();
                        if (length < 0 || length > body.Length - offset)
                        {
                            throw new MaaSException(null, $"output '{name}' claims {length} bytes past the end of the answer");
                        }

                        data = body.AsMemory(offset, length);
                        offset += length;
                    }
                    else
                    {
                        data = TensorLayout.ReadJson(item.GetProperty("data"), datatype, InferInput.ElementCount(shape));
                    }

                    outputs.Add(new InferOutput(name, datatype, shape, data));
                }
            }

            return new InferResult(
                root.GetProperty("model_name").GetString()!,
                root.TryGetProperty("model_version", out var version) ? version.GetString() ?? "" : "",
                root.TryGetProperty("id", out var id) ? id.GetString() : null,
                outputs);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new MaaSException(null, "the server's inference answer is malformed: " + e.Message, e);
        }
    }

    private static bool SendsBinary(InferInput input, InferOptions options) => options.Binary || !TensorLayout.HasJsonForm(input.Datatype);
}
