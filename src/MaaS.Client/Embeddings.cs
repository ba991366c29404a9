using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace MaaS.Client;

/// <summary>How <c>POST /v1/embeddings</c> sends the vectors: JSON numbers, or base64 of the little-endian float32 bytes (smaller).</summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1720", Justification = "OpenAI's encoding_format names")]
public enum EmbeddingEncoding
{
    Float,
    Base64,
}

/// <summary>The OpenAI embeddings request the server reads (docs/pipelines.md).</summary>
internal sealed record EmbeddingsRequest(
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("input")] IReadOnlyList<string> Input,
    [property: JsonPropertyName("encoding_format")] string EncodingFormat);

/// <summary>One text's embedding; <see cref="Index"/> is the text's position in the request.</summary>
public sealed record Embedding(int Index, ReadOnlyMemory<float> Vector);

/// <summary>The answer of <c>POST /v1/embeddings</c>: one embedding per text, in the request's order, and the tokens the model saw.</summary>
public sealed class EmbeddingsResult
{
    internal EmbeddingsResult(string json, string model, IReadOnlyList<Embedding> data, long promptTokens, long totalTokens)
    {
        Json = json;
        Model = model;
        Data = data;
        PromptTokens = promptTokens;
        TotalTokens = totalTokens;
    }

    /// <summary>The server's answer as it came.</summary>
    public string Json { get; }

    public string Model { get; }

    public IReadOnlyList<Embedding> Data { get; }

    /// <summary>Tokens the model saw, <c>[CLS]</c> and <c>[SEP]</c> included.</summary>
    public long PromptTokens { get; }

    public long TotalTokens { get; }

    internal static EmbeddingsResult Parse(string json)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            var root = document.RootElement;
            var data = new List<Embedding>();
            foreach (var item in root.GetProperty("data").EnumerateArray())
            {
                var embedding = item.GetProperty("embedding");
                float[] vector;
                if (embedding.ValueKind == JsonValueKind.String)
                {
                    var bytes = embedding.GetBytesFromBase64();
                    if (bytes.Length % sizeof(float) != 0)
                    {
                        throw new FormatException($"a base64 embedding of {bytes.Length} bytes is not whole float32 values");
                    }

                    vector = MemoryMarshal.Cast<byte, float>(bytes).ToArray();
                }
                else
                {
                    vector = embedding.EnumerateArray().Select(v => v.GetSingle()).ToArray();
                }

                data.Add(new Embedding(item.GetProperty("index").GetInt32(), vector));
            }

            var usage = root.TryGetProperty("usage", out var u) ? u : default;
            return new EmbeddingsResult(
                json,
                root.GetProperty("model").GetString()!,
                data,
                usage.ValueKind == JsonValueKind.Object && usage.TryGetProperty("prompt_tokens", out var prompt) ? prompt.GetInt64() : 0,
                usage.ValueKind == JsonValueKind.Object && usage.TryGetProperty("total_tokens", out var total) ? total.GetInt64() : 0);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new MaaSException(null, "the server's embeddings answer is malformed: " + e.Message, e);
        }
    }
}
