using System.Text.Json;
using System.Text.Json.Serialization;

namespace MaaS.Client;

/// <summary>
/// <c>GET /v2/repository/models/{m}</c>: the registry's view of a model, every version on disk. Fields this client does
/// not know (a newer server's) are kept in <see cref="Extra"/>.
/// </summary>
public sealed record ModelView(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("error")] string? Error,
    [property: JsonPropertyName("unloaded")] bool Unloaded,
    [property: JsonPropertyName("labels")] IReadOnlyDictionary<string, long> Labels,
    [property: JsonPropertyName("versions")] IReadOnlyList<ModelVersionView> Versions,
    [property: JsonPropertyName("config")] JsonElement? Config,
    [property: JsonPropertyName("ignored_config_keys")] IReadOnlyList<string>? IgnoredConfigKeys)
{
    [JsonExtensionData] public Dictionary<string, JsonElement>? Extra { get; set; }
}

/// <summary>One version on disk: its state (and why, when not READY), file, labels; <see cref="DerivedFrom"/> on a version made by optimize (its report).</summary>
public sealed record ModelVersionView(
    [property: JsonPropertyName("version")] string Version,
    [property: JsonPropertyName("state")] string State,
    [property: JsonPropertyName("reason")] string? Reason,
    [property: JsonPropertyName("sha256")] string? Sha256,
    [property: JsonPropertyName("size_bytes")] long? SizeBytes,
    [property: JsonPropertyName("created")] DateTimeOffset? Created,
    [property: JsonPropertyName("labels")] IReadOnlyList<string>? Labels,
    [property: JsonPropertyName("instances")] JsonElement? Instances,
    [property: JsonPropertyName("derived_from")] JsonElement? DerivedFrom)
{
    [JsonExtensionData] public Dictionary<string, JsonElement>? Extra { get; set; }
}

/// <summary>
/// <c>GET /v2/models/{m}/config</c>: the effective configuration in Triton's ModelConfig JSON. The sections the
/// server fills in are typed; the rest as written (<see cref="Extra"/>: model_warmup, optimization, pinned, ...).
/// </summary>
public sealed record ModelConfig(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("platform")] string? Platform,
    [property: JsonPropertyName("backend")] string? Backend,
    [property: JsonPropertyName("max_batch_size")] int MaxBatchSize,
    [property: JsonPropertyName("input")] IReadOnlyList<ModelConfigTensor> Input,
    [property: JsonPropertyName("output")] IReadOnlyList<ModelConfigTensor> Output,
    [property: JsonPropertyName("version_policy")] JsonElement? VersionPolicy,
    [property: JsonPropertyName("instance_group")] IReadOnlyList<ModelInstanceGroup>? InstanceGroup,
    [property: JsonPropertyName("default_model_filename")] string? DefaultModelFilename,
    [property: JsonPropertyName("parameters")] JsonElement? Parameters,
    [property: JsonPropertyName("dynamic_batching")] JsonElement? DynamicBatching,
    [property: JsonPropertyName("labels")] JsonElement? Labels)
{
    [JsonExtensionData] public Dictionary<string, JsonElement>? Extra { get; set; }
}

/// <summary>An input or output of a <see cref="ModelConfig"/>: <c>dims</c> without the batch dimension, -1 for a size that varies.</summary>
public sealed record ModelConfigTensor(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("data_type")] string DataType,
    [property: JsonPropertyName("dims")] IReadOnlyList<long> Dims,
    [property: JsonPropertyName("format")] string? Format,
    [property: JsonPropertyName("optional")] bool? Optional,
    [property: JsonPropertyName("is_shape_tensor")] bool? IsShapeTensor,
    [property: JsonPropertyName("label_filename")] string? LabelFilename)
{
    [JsonExtensionData] public Dictionary<string, JsonElement>? Extra { get; set; }
}

/// <summary>An instance group: how many sessions of which kind.</summary>
public sealed record ModelInstanceGroup(
    [property: JsonPropertyName("name")] string? Name,
    [property: JsonPropertyName("kind")] string? Kind,
    [property: JsonPropertyName("count")] int Count,
    [property: JsonPropertyName("gpus")] IReadOnlyList<int>? Gpus)
{
    [JsonExtensionData] public Dictionary<string, JsonElement>? Extra { get; set; }
}

/// <summary><c>GET /v2/models[/{m}[/versions/{v}]]/stats</c>: Triton's statistics extension, one entry per model version.</summary>
public sealed record ModelStatisticsResponse(
    [property: JsonPropertyName("model_stats")] IReadOnlyList<ModelStatistics> ModelStats);

/// <summary>The statistics of one model version; times are cumulative nanoseconds since it loaded.</summary>
public sealed record ModelStatistics(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("version")] string Version,
    [property: JsonPropertyName("last_inference")] long LastInference,
    [property: JsonPropertyName("inference_count")] long InferenceCount,
    [property: JsonPropertyName("execution_count")] long ExecutionCount,
    [property: JsonPropertyName("inference_stats")] InferenceStatistics InferenceStats,
    [property: JsonPropertyName("batch_stats")] IReadOnlyList<BatchStatistics>? BatchStats)
{
    [JsonExtensionData] public Dictionary<string, JsonElement>? Extra { get; set; }
}

/// <summary>Request counts and the time spent in each phase.</summary>
public sealed record InferenceStatistics(
    [property: JsonPropertyName("success")] StatisticDuration Success,
    [property: JsonPropertyName("fail")] StatisticDuration Fail,
    [property: JsonPropertyName("queue")] StatisticDuration Queue,
    [property: JsonPropertyName("compute_input")] StatisticDuration ComputeInput,
    [property: JsonPropertyName("compute_infer")] StatisticDuration ComputeInfer,
    [property: JsonPropertyName("compute_output")] StatisticDuration ComputeOutput,
    [property: JsonPropertyName("cache_hit")] StatisticDuration? CacheHit,
    [property: JsonPropertyName("cache_miss")] StatisticDuration? CacheMiss);

/// <summary>Executions of one batch size.</summary>
public sealed record BatchStatistics(
    [property: JsonPropertyName("batch_size")] long BatchSize,
    [property: JsonPropertyName("compute_input")] StatisticDuration ComputeInput,
    [property: JsonPropertyName("compute_infer")] StatisticDuration ComputeInfer,
    [property: JsonPropertyName("compute_output")] StatisticDuration ComputeOutput);

/// <summary>A count and the total nanoseconds they took.</summary>
public sealed record StatisticDuration(
    [property: JsonPropertyName("count")] long Count,
    [property: JsonPropertyName("ns")] long Ns)
{
    /// <summary>Mean milliseconds, or NaN when the count is 0.</summary>
    [JsonIgnore] public double MeanMilliseconds => Count == 0 ? double.NaN : Ns / (double)Count / 1e6;
}

/// <summary>
/// The report of <c>POST .../versions/{v}/optimize</c> (the server's docs/optimization.md): the new version, what was
/// measured against the source version, and the bounds applied. Other fields in <see cref="Extra"/>.
/// </summary>
public sealed record OptimizeReport(
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("version")] long? Version,
    [property: JsonPropertyName("source_version")] long SourceVersion,
    [property: JsonPropertyName("method")] string Method,
    [property: JsonPropertyName("accepted")] bool Accepted,
    [property: JsonPropertyName("size_bytes")] OptimizeComparison? SizeBytes,
    [property: JsonPropertyName("latency_us")] OptimizeComparison? LatencyUs,
    [property: JsonPropertyName("accuracy")] OptimizeAccuracy? Accuracy,
    [property: JsonPropertyName("outputs")] IReadOnlyDictionary<string, OptimizeAccuracy>? Outputs,
    [property: JsonPropertyName("nodes_changed")] long? NodesChanged,
    [property: JsonPropertyName("nodes_total")] long? NodesTotal,
    [property: JsonPropertyName("notes")] IReadOnlyList<string>? Notes,
    [property: JsonPropertyName("validation_inputs")] JsonElement? ValidationInputs,
    [property: JsonPropertyName("measured_on")] string? MeasuredOn,
    [property: JsonPropertyName("bounds")] IReadOnlyDictionary<string, double>? Bounds)
{
    [JsonExtensionData] public Dictionary<string, JsonElement>? Extra { get; set; }
}

/// <summary>A measurement of the source version and of the optimised one.</summary>
public sealed record OptimizeComparison(
    [property: JsonPropertyName("source")] double Source,
    [property: JsonPropertyName("optimized")] double Optimized);

/// <summary>How far the optimised outputs are from the source's, over the validation inputs.</summary>
public sealed record OptimizeAccuracy(
    [property: JsonPropertyName("max_abs_diff")] double? MaxAbsDiff,
    [property: JsonPropertyName("mean_abs_diff")] double? MeanAbsDiff,
    [property: JsonPropertyName("min_cosine")] double? MinCosine,
    [property: JsonPropertyName("top1_agreement")] double? Top1Agreement);
