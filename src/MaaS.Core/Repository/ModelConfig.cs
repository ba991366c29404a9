using System.Text.Json;
using System.Text.Json.Serialization;
using MaaS.Core.Config;

namespace MaaS.Core.Repository;

/// <summary>
/// A model's <c>config.json</c>, in Triton's ModelConfig JSON field names (DESIGN.md §3), typed section by section
/// and checked by <see cref="ModelConfigReader"/>. Every field is optional: what is missing is inferred from the
/// ONNX file or taken from the server's defaults.
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
    public Dictionary<string, ModelParameterConfig>? Parameters { get; set; }

    [JsonPropertyName("instance_group")]
    public List<InstanceGroupConfig>? InstanceGroup { get; set; }

    [JsonPropertyName("dynamic_batching")]
    public DynamicBatchingConfig? DynamicBatching { get; set; }

    [JsonPropertyName("model_warmup")]
    public List<WarmupSampleConfig>? ModelWarmup { get; set; }

    [JsonPropertyName("optimization")]
    public OptimizationConfig? Optimization { get; set; }

    /// <summary>Ours: never evicted by the loaded-model budget.</summary>
    [JsonPropertyName("pinned")]
    public bool? Pinned { get; set; }

    /// <summary>Ours: steps around another model (docs/pipelines.md); such a model has no ONNX file of its own.</summary>
    [JsonPropertyName("pipeline")]
    public PipelineConfig? Pipeline { get; set; }

    /// <summary>Top-level keys this class does not declare: once parsed, only Triton keys we do not implement.</summary>
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Unknown { get; set; }

    /// <summary>
    /// Triton keys that this server accepts but does not apply, by path (<c>sequence_batching</c>,
    /// <c>optimization.execution_accelerators</c>, <c>input[0].reshape</c>), for the log and the registry view.
    /// </summary>
    [JsonIgnore]
    public Dictionary<string, JsonElement> Ignored { get; } = new(StringComparer.Ordinal);
}

[JsonSerializable(typeof(ModelConfig))]
[JsonSerializable(typeof(VersionRecord))]
[JsonSourceGenerationOptions(
    ReadCommentHandling = JsonCommentHandling.Skip,
    AllowTrailingCommas = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    Converters = [typeof(TritonIntegerConverter)])]
internal sealed partial class RepositoryJsonContext : JsonSerializerContext;
