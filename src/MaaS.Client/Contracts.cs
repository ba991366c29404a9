using System.Text.Json;
using System.Text.Json.Serialization;

namespace MaaS.Client;

/// <summary><c>GET /v2</c>.</summary>
public sealed record ServerMetadata(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("version")] string Version,
    [property: JsonPropertyName("extensions")] IReadOnlyList<string> Extensions,
    [property: JsonPropertyName("execution_provider")] string? ExecutionProvider);

/// <summary>An input or output of a model: its shape has -1 for a size that varies.</summary>
public sealed record TensorMetadata(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("datatype")] string Datatype,
    [property: JsonPropertyName("shape")] IReadOnlyList<long> Shape);

/// <summary><c>GET /v2/models/{m}[/versions/{v}]</c>.</summary>
public sealed record ModelMetadata(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("versions")] IReadOnlyList<string> Versions,
    [property: JsonPropertyName("platform")] string Platform,
    [property: JsonPropertyName("inputs")] IReadOnlyList<TensorMetadata> Inputs,
    [property: JsonPropertyName("outputs")] IReadOnlyList<TensorMetadata> Outputs);

/// <summary>One entry of <c>POST /v2/repository/index</c>: a model version and its state, or a model never loaded (name only).</summary>
public sealed record RepositoryIndexEntry(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("version")] string? Version,
    [property: JsonPropertyName("state")] string? State,
    [property: JsonPropertyName("reason")] string? Reason);

/// <summary>The answer to an upload: the new version, READY.</summary>
public sealed record UploadResult(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("version")] long Version,
    [property: JsonPropertyName("state")] string State,
    [property: JsonPropertyName("sha256")] string Sha256,
    [property: JsonPropertyName("size_bytes")] long SizeBytes);

/// <summary>Which version a model call addresses: the newest READY one (default), a number, or a label.</summary>
public readonly record struct ModelVersion
{
    private ModelVersion(long? number, string? label)
    {
        Number = number;
        Label = label;
    }

    public long? Number { get; }

    public string? Label { get; }

    public static ModelVersion Latest => default;

    public static ModelVersion Of(long number) =>
        number > 0 ? new ModelVersion(number, null) : throw new ArgumentOutOfRangeException(nameof(number), "a version is a positive integer");

    public static ModelVersion OfLabel(string label) =>
        string.IsNullOrEmpty(label) ? throw new ArgumentException("a label is not empty", nameof(label)) : new ModelVersion(null, label);

    internal string RouteSuffix => Number is { } n ? "/versions/" + n : Label is { } l ? "/labels/" + Uri.EscapeDataString(l) : "";
}

/// <summary>An optimisation request (<c>POST .../versions/{v}/optimize</c>); null bounds take the server's defaults.</summary>
public sealed record OptimizeRequest(
    [property: JsonPropertyName("method")] string Method,
    [property: JsonPropertyName("label")] string? Label = null,
    [property: JsonPropertyName("max_abs_diff")] double? MaxAbsDiff = null,
    [property: JsonPropertyName("min_cosine")] double? MinCosine = null,
    [property: JsonPropertyName("min_top1_agreement")] double? MinTop1Agreement = null);

/// <summary>The JSON the client reads and writes, with the server's names.</summary>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, NumberHandling = JsonNumberHandling.AllowReadingFromString)]
[JsonSerializable(typeof(ServerMetadata))]
[JsonSerializable(typeof(ModelMetadata))]
[JsonSerializable(typeof(List<RepositoryIndexEntry>))]
[JsonSerializable(typeof(UploadResult))]
[JsonSerializable(typeof(OptimizeRequest))]
[JsonSerializable(typeof(EmbeddingsRequest))]
[JsonSerializable(typeof(JsonElement))]
[JsonSerializable(typeof(ModelView))]
[JsonSerializable(typeof(ModelConfig))]
[JsonSerializable(typeof(ModelStatisticsResponse))]
[JsonSerializable(typeof(OptimizeReport))]
internal sealed partial class ClientJsonContext : JsonSerializerContext;
