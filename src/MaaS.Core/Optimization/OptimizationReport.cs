using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace MaaS.Core.Optimization;

/// <summary>
/// What an optimisation made and what it costs: the answer to the optimize request (201 when accepted, 422 with
/// <see cref="Accepted"/> false and <see cref="Version"/> null when it broke a bound), and, as <c>derived_from</c>, the
/// record kept beside the new version.
/// </summary>
public sealed record OptimizationReport
{
    [JsonPropertyName("model")]
    public required string Model { get; init; }

    /// <summary>The new version; null when the result was not accepted (nothing was kept).</summary>
    [JsonPropertyName("version")]
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public long? Version { get; init; }

    [JsonPropertyName("source_version")]
    public required long SourceVersion { get; init; }

    [JsonPropertyName("method")]
    public required string Method { get; init; }

    [JsonPropertyName("accepted")]
    public required bool Accepted { get; init; }

    /// <summary>Which bound the result broke, with the values; only when not accepted.</summary>
    [JsonPropertyName("error")]
    public string? Error { get; init; }

    [JsonPropertyName("size_bytes")]
    public required SourceAndOptimized<long> SizeBytes { get; init; }

    /// <summary>Median time of one batch-1 run over the validation inputs, in microseconds.</summary>
    [JsonPropertyName("latency_us")]
    public required SourceAndOptimized<double> LatencyUs { get; init; }

    /// <summary>The worst over every output: max of max_abs_diff, mean of mean_abs_diff, min of min_cosine and top1_agreement.</summary>
    [JsonPropertyName("accuracy")]
    public required AccuracyFigures Accuracy { get; init; }

    [JsonPropertyName("outputs")]
    public required IReadOnlyDictionary<string, AccuracyFigures> Outputs { get; init; }

    /// <summary>Nodes of the source graph the method rewrote (the transform's count).</summary>
    [JsonPropertyName("nodes_changed")]
    public required int NodesChanged { get; init; }

    [JsonPropertyName("nodes_total")]
    public required int NodesTotal { get; init; }

    [JsonPropertyName("notes")]
    public required IReadOnlyList<string> Notes { get; init; }

    [JsonPropertyName("validation_inputs")]
    public required ValidationSummary ValidationInputs { get; init; }

    /// <summary>Where both models were run to measure them: always "cpu" (plain CPU sessions, whatever serves the versions).</summary>
    [JsonPropertyName("measured_on")]
    public string MeasuredOn { get; init; } = "cpu";

    [JsonPropertyName("bounds")]
    public required AcceptanceBounds Bounds { get; init; }

    /// <summary>
    /// The report as kept beside the new version and shown in the registry view: <c>version</c> is the source version,
    /// then the method and the measurements (the new version's own number and the outcome are the version's facts).
    /// </summary>
    public JsonElement ToDerivedFrom()
    {
        var node = JsonSerializer.SerializeToNode(this, OptimizationJsonContext.Default.OptimizationReport)!.AsObject();
        var derived = new JsonObject { ["version"] = SourceVersion };
        foreach (var (key, value) in node)
        {
            if (key is not ("model" or "version" or "source_version" or "accepted" or "error"))
            {
                derived[key] = value?.DeepClone();
            }
        }

        return JsonSerializer.SerializeToElement(derived, OptimizationJsonContext.Default.JsonObject);
    }
}

public sealed record SourceAndOptimized<T>(
    [property: JsonPropertyName("source")] T Source,
    [property: JsonPropertyName("optimized")] T Optimized);

/// <summary>How far the optimised model's outputs are from the source's over the validation inputs.</summary>
public sealed record AccuracyFigures(
    [property: JsonPropertyName("max_abs_diff")] double MaxAbsDiff,
    [property: JsonPropertyName("mean_abs_diff")] double MeanAbsDiff,
    [property: JsonPropertyName("min_cosine")] double MinCosine,
    [property: JsonPropertyName("top1_agreement")] double? Top1Agreement);

/// <summary>
/// Where the validation inputs came from (<c>request</c>, <c>warmup</c> or <c>generated</c>), how many batch-1 runs
/// they made, and for generated ones how they were made (seed, sizes, value ranges).
/// </summary>
public sealed record ValidationSummary(
    [property: JsonPropertyName("source")] string Source,
    [property: JsonPropertyName("count")] int Count,
    [property: JsonPropertyName("generated")] string? Generated = null);

/// <summary>
/// JSON of the report. Non-finite figures (an output that became NaN or infinite) are written as the strings "NaN",
/// "Infinity", which JSON has no number for; the relaxed encoder keeps quotes in messages readable.
/// </summary>
[JsonSerializable(typeof(OptimizationReport))]
[JsonSerializable(typeof(JsonObject))]
[JsonSourceGenerationOptions(
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals)]
public sealed partial class OptimizationJsonContext : JsonSerializerContext
{
    /// <summary>The context with the relaxed encoder, for HTTP answers (quotes and non-ASCII written as themselves).</summary>
    public static OptimizationJsonContext Relaxed { get; } = new(new JsonSerializerOptions
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });
}
