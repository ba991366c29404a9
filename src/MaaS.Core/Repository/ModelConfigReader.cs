using System.Text.Json;
using System.Text.Json.Nodes;
using MaaS.Core.Config;

namespace MaaS.Core.Repository;

/// <summary>
/// Reads config.json into typed records (source-generated) and checks it once, here: a key that is neither ours nor
/// Triton's is an error naming the key and its path; a Triton key we do not implement is accepted and recorded in
/// <see cref="ModelConfig.Ignored"/>, so configs written for Triton still load; every section's values are checked,
/// so the load path gets valid values only.
/// </summary>
public static class ModelConfigReader
{
    private static readonly JsonReaderOptions ReaderOptions = new()
    {
        CommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
    };

    /// <summary>Parses <paramref name="json"/>; throws <see cref="ModelConfigException"/> with a message naming the bad key.</summary>
    public static ModelConfig Parse(ReadOnlySpan<byte> json) => Parse(json, ModelConfigFormat.Json);

    /// <summary>
    /// Parses a config's JSON form, naming in errors the file it came from: a config.pbtxt is checked exactly as a
    /// config.json is (through its JSON form), so both formats mean the same, and its errors say config.pbtxt.
    /// </summary>
    public static ModelConfig Parse(ReadOnlySpan<byte> json, ModelConfigFormat format)
    {
        try
        {
            return ParseJson(json);
        }
        catch (ModelConfigException ex) when (format == ModelConfigFormat.Pbtxt)
        {
            throw new ModelConfigException(ModelConfigFiles.InFileOf(format, ex.Message), ex);
        }
    }

    /// <summary>
    /// Reads config.pbtxt with maas.json's <paramref name="additions"/> (empty for none) merged over it; returns the
    /// config and its JSON form (for the registry view and edits). Syntax errors name the line and column.
    /// </summary>
    public static (ModelConfig Config, byte[] Json) ParsePbtxt(ReadOnlySpan<byte> pbtxt, ReadOnlySpan<byte> additions)
    {
        var json = ModelConfigFiles.PbtxtToJson(pbtxt, additions);
        return (Parse(json, ModelConfigFormat.Pbtxt), json);
    }

    private static ModelConfig ParseJson(ReadOnlySpan<byte> json)
    {
        CheckSyntax(json);
        ModelConfig config;
        try
        {
            config = JsonSerializer.Deserialize(json, RepositoryJsonContext.Default.ModelConfig)
                ?? throw new ModelConfigException("config.json must hold a JSON object");
        }
        catch (JsonException ex)
        {
            throw new ModelConfigException(ConfigErrorText.Describe(ex), ex);
        }

        ModelConfigValidator.Validate(config);
        return config;
    }

    /// <summary>A section of a parsed config as JSON in config.json's field names, Triton keys it kept included; null stays null.</summary>
    public static JsonNode? ToJson<T>(T? section)
        where T : class =>
        section is null
            ? null
            : JsonSerializer.SerializeToNode(section, (System.Text.Json.Serialization.Metadata.JsonTypeInfo<T>)RepositoryJsonContext.Default.GetTypeInfo(typeof(T))!);

    /// <summary>Malformed JSON is told apart from a well-formed value of the wrong type, which the typed read names by path.</summary>
    private static void CheckSyntax(ReadOnlySpan<byte> json)
    {
        try
        {
            var reader = new Utf8JsonReader(json, ReaderOptions);
            reader.Read();
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                throw new ModelConfigException("config.json must hold a JSON object");
            }

            reader.Skip();
            reader.Read();
        }
        catch (JsonException ex)
        {
            throw new ModelConfigException($"config.json is not valid: {ex.Message}", ex);
        }
    }
}
