using System.Text.Json;
using MaaS.Core;

namespace MaaS.Server.Endpoints.OpenAI;

/// <summary>An OpenAI embeddings request, read by hand so that every mistake gets a message saying what was expected.</summary>
internal sealed record EmbeddingsRequest(string Model, IReadOnlyList<string> Input, bool Base64)
{
    public static EmbeddingsRequest Parse(ReadOnlySpan<byte> body)
    {
        JsonDocument document;
        try
        {
            var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = 8 });
            document = JsonDocument.ParseValue(ref reader);
        }
        catch (JsonException ex)
        {
            throw ServingException.Invalid($"the body must be a JSON object: {ex.Message}");
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw ServingException.Invalid("the body must be a JSON object with 'model' and 'input'");
            }

            var model = root.TryGetProperty("model", out var m) && m.ValueKind == JsonValueKind.String && m.GetString() is { Length: > 0 } name
                ? name
                : throw ServingException.Invalid("'model' is required: the name of a text-embedding model");
            if (root.TryGetProperty("dimensions", out var dimensions) && dimensions.ValueKind != JsonValueKind.Null)
            {
                throw ServingException.Invalid($"'dimensions' is not supported by model '{model}': leave it out to get the model's own size");
            }

            var format = !root.TryGetProperty("encoding_format", out var f) || f.ValueKind == JsonValueKind.Null ? "float"
                : f.ValueKind == JsonValueKind.String ? f.GetString()
                : null;
            if (format is not ("float" or "base64"))
            {
                throw ServingException.Invalid("'encoding_format' must be 'float' or 'base64'");
            }

            return new EmbeddingsRequest(model, ReadInput(root), format == "base64");
        }
    }

    private static List<string> ReadInput(JsonElement root)
    {
        if (!root.TryGetProperty("input", out var input))
        {
            throw ServingException.Invalid("'input' is required: a string or an array of strings");
        }

        if (input.ValueKind == JsonValueKind.String)
        {
            return [input.GetString()!];
        }

        if (input.ValueKind != JsonValueKind.Array || input.GetArrayLength() == 0)
        {
            throw ServingException.Invalid("'input' must be a string or a non-empty array of strings");
        }

        var texts = new List<string>(input.GetArrayLength());
        foreach (var item in input.EnumerateArray())
        {
            texts.Add(item.ValueKind switch
            {
                JsonValueKind.String => item.GetString()!,
                JsonValueKind.Number or JsonValueKind.Array =>
                    throw ServingException.Invalid("'input' as token ids is not supported here: send the text (a string or an array of strings)"),
                _ => throw ServingException.Invalid($"'input' item {texts.Count} must be a string"),
            });
        }

        return texts;
    }
}
