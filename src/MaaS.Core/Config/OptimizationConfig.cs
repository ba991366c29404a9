using System.Text.Json;
using System.Text.Json.Serialization;

namespace MaaS.Core.Config;

/// <summary>
/// <c>optimization</c>: our ONNX Runtime keys over the <c>MaaS:Sessions</c> defaults, beside Triton's own sub-keys.
/// Triton's <c>graph.level</c> is mapped as its ONNX Runtime backend maps it; its other sub-keys
/// (<c>execution_accelerators</c>, <c>cuda</c>, …) stay in <see cref="Unknown"/> and are reported as ignored.
/// </summary>
public sealed record OptimizationConfig
{
    /// <summary>Ours: disable, basic, extended or all.</summary>
    [JsonPropertyName("graph_optimization_level")]
    public string? GraphOptimizationLevel { get; init; }

    [JsonPropertyName("intra_op_threads")]
    public long? IntraOpThreads { get; init; }

    [JsonPropertyName("inter_op_threads")]
    public long? InterOpThreads { get; init; }

    [JsonPropertyName("enable_memory_pattern")]
    public bool? EnableMemoryPattern { get; init; }

    [JsonPropertyName("enable_cpu_mem_arena")]
    public bool? EnableCpuMemArena { get; init; }

    /// <summary>Triton's: <c>{"level": n}</c>.</summary>
    [JsonPropertyName("graph")]
    public GraphConfig? Graph { get; init; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Unknown { get; set; }

    /// <summary>
    /// The level in our words: ours when set, else Triton's <c>graph.level</c> as its ONNX Runtime backend reads it
    /// (-1 basic, 1 extended, 2 disable, anything else all), else null (the server default).
    /// </summary>
    [JsonIgnore]
    public string? EffectiveGraphLevel => GraphOptimizationLevel ?? Graph switch
    {
        null => null,
        { Level: -1 } => "basic",
        { Level: 1 } => "extended",
        { Level: 2 } => "disable",
        _ => "all",
    };
}

/// <summary>Triton's <c>optimization.graph</c>.</summary>
public sealed record GraphConfig
{
    [JsonPropertyName("level")]
    public long? Level { get; init; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Unknown { get; set; }
}
