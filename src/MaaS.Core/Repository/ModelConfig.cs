using System.Text.Json;
using System.Text.Json.Serialization;

namespace MaaS.Core.Repository;

/// <summary>
/// A model's <c>config.json</c>, in Triton's ModelConfig JSON field names (DESIGN.md §3). Every field is optional:
/// what is missing is inferred from the ONNX file.
/// </summary>
public sealed class ModelConfig
{
    [JsonPropertyName("name")]
    public string? Name { get; set; }

    [JsonPropertyName("platform")]
    public string? Platform { get; set; }

    [JsonPropertyName("backend")]
    public string? Backend { get; set; }

    /// <summary>0 = no implicit batch dim; n &gt; 0 = the first dim is the batch.</summary>
    [JsonPropertyName("max_batch_size")]
    public int? MaxBatchSize { get; set; }

    [JsonPropertyName("input")]
    public List<TensorConfig>? Input { get; set; }

    [JsonPropertyName("output")]
    public List<TensorConfig>? Output { get; set; }

    [JsonPropertyName("version_policy")]
    public VersionPolicyConfig? VersionPolicy { get; set; }

    [JsonPropertyName("default_model_filename")]
    public string? DefaultModelFilename { get; set; }

    /// <summary>Ours: label name -> version, e.g. {"stable": 1}.</summary>
    [JsonPropertyName("labels")]
    public Dictionary<string, long>? Labels { get; set; }

    [JsonPropertyName("parameters")]
    public JsonElement? Parameters { get; set; }

    [JsonPropertyName("instance_group")]
    public JsonElement? InstanceGroup { get; set; }

    [JsonPropertyName("dynamic_batching")]
    public JsonElement? DynamicBatching { get; set; }

    [JsonPropertyName("model_warmup")]
    public JsonElement? ModelWarmup { get; set; }

    [JsonPropertyName("optimization")]
    public JsonElement? Optimization { get; set; }

    [JsonPropertyName("pinned")]
    public bool? Pinned { get; set; }

    /// <summary>Triton keys that this server accepts but does not apply, kept to show them in the effective config.</summary>
    [JsonIgnore]
    public Dictionary<string, JsonElement> Ignored { get; } = new(StringComparer.Ordinal);
}

/// <summary>One <c>input</c> or <c>output</c> entry.</summary>
public sealed class TensorConfig
{
    [JsonPropertyName("name")]
    public string? Name { get; set; }

    [JsonPropertyName("data_type")]
    public string? DataType { get; set; }

    /// <summary>Shape without the batch dim; -1 = variable.</summary>
    [JsonPropertyName("dims")]
    public long[]? Dims { get; set; }

    [JsonPropertyName("label_filename")]
    public string? LabelFilename { get; set; }

    [JsonPropertyName("optional")]
    public bool? Optional { get; set; }
}

/// <summary>Exactly one of latest, all, specific.</summary>
public sealed class VersionPolicyConfig
{
    [JsonPropertyName("latest")]
    public LatestPolicy? Latest { get; set; }

    [JsonPropertyName("all")]
    public JsonElement? All { get; set; }

    [JsonPropertyName("specific")]
    public SpecificPolicy? Specific { get; set; }
}

public sealed class LatestPolicy
{
    [JsonPropertyName("num_versions")]
    public int NumVersions { get; set; } = 1;
}

public sealed class SpecificPolicy
{
    [JsonPropertyName("versions")]
    public long[] Versions { get; set; } = [];
}

[JsonSerializable(typeof(ModelConfig))]
[JsonSerializable(typeof(VersionRecord))]
[JsonSourceGenerationOptions(ReadCommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true)]
internal sealed partial class RepositoryJsonContext : JsonSerializerContext;
