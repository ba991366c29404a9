using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace MaaS.Core.Repository;

/// <summary>Which file holds a model's config.</summary>
public enum ModelConfigFormat
{
    /// <summary>config.json: Triton's ModelConfig in JSON, with the server's own keys in the same file.</summary>
    Json,

    /// <summary>config.pbtxt: Triton's ModelConfig in protobuf text format, kept loadable by Triton; the server's own keys live in maas.json.</summary>
    Pbtxt,
}

/// <summary>
/// The files of a model directory that make its config. config.json wins when both it and config.pbtxt exist, since
/// config.json holds the server's own additions; a config.pbtxt is read with maas.json, where the server writes what
/// Triton's schema has no field for (labels, pinned), merged over it.
/// </summary>
public static class ModelConfigFiles
{
    public const string Json = "config.json";

    public const string Pbtxt = PbtxtReader.FileName;

    /// <summary>The server's additions to a config.pbtxt model: a JSON object in config.json's shape.</summary>
    public const string Additions = "maas.json";

    private static readonly JsonSerializerOptions IndentedJson = new() { WriteIndented = true };

    private static readonly JsonDocumentOptions DocumentOptions = new() { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };

    public static string FileName(ModelConfigFormat format) => format == ModelConfigFormat.Pbtxt ? Pbtxt : Json;

    /// <summary>
    /// A config error in the name of the file the config came from: the checks both formats share (parse time and
    /// load time) word their messages for config.json.
    /// </summary>
    public static string InFileOf(ModelConfigFormat format, string message) =>
        format == ModelConfigFormat.Pbtxt && message.StartsWith(Json, StringComparison.Ordinal) ? Pbtxt + message[Json.Length..] : message;

    /// <summary>
    /// config.pbtxt in config.json's JSON form, with <paramref name="additions"/> (maas.json's bytes; empty for none)
    /// merged over it; throws <see cref="ModelConfigException"/> naming the line and column, or maas.json's fault.
    /// </summary>
    public static byte[] PbtxtToJson(ReadOnlySpan<byte> pbtxt, ReadOnlySpan<byte> additions)
    {
        var config = PbtxtReader.Read(pbtxt);
        Merge(config, ReadAdditions(additions));
        return Encoding.UTF8.GetBytes(config.ToJsonString(IndentedJson));
    }

    /// <summary>maas.json as an object (empty for no bytes); throws <see cref="ModelConfigException"/> when it is not one.</summary>
    public static JsonObject ReadAdditions(ReadOnlySpan<byte> additions)
    {
        if (additions.IsEmpty)
        {
            return [];
        }

        try
        {
            return JsonNode.Parse(additions, documentOptions: DocumentOptions) as JsonObject
                ?? throw new ModelConfigException($"{Additions} must hold a JSON object");
        }
        catch (JsonException ex)
        {
            throw new ModelConfigException($"{Additions} is not valid: {ex.Message}", ex);
        }
    }

    public static byte[] WriteAdditions(JsonObject additions) => Encoding.UTF8.GetBytes(additions.ToJsonString(IndentedJson));

    /// <summary>Objects are merged key by key; any other value of <paramref name="over"/> replaces the one under it.</summary>
    private static void Merge(JsonObject under, JsonObject over)
    {
        foreach (var (key, value) in over.ToList())
        {
            if (value is JsonObject overObject && under[key] is JsonObject underObject)
            {
                Merge(underObject, overObject);
            }
            else
            {
                under[key] = value?.DeepClone();
            }
        }
    }
}
