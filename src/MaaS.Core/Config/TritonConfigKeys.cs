using System.Collections.Frozen;

namespace MaaS.Core.Config;

/// <summary>
/// Field names of Triton's model_config.proto that MaaS accepts without applying them, per message. A config written
/// for Triton still loads; these keys are logged and reported as ignored. Anything else a record does not declare is
/// an error.
/// </summary>
internal static class TritonConfigKeys
{
    public static readonly FrozenSet<string> None = FrozenSet<string>.Empty;

    /// <summary>ModelConfig.</summary>
    public static readonly FrozenSet<string> Model = FrozenSet.Create(
        StringComparer.Ordinal,
        "runtime", "batch_input", "batch_output", "sequence_batching", "ensemble_scheduling", "cc_model_filenames",
        "metric_tags", "model_operations", "model_transaction_policy", "model_repository_agents", "response_cache",
        "model_metrics");

    /// <summary>ModelInput and ModelOutput.</summary>
    public static readonly FrozenSet<string> Tensor = FrozenSet.Create(
        StringComparer.Ordinal, "format", "reshape", "is_shape_tensor", "allow_ragged_batch", "is_non_linear_format_io");

    /// <summary>ModelInstanceGroup.</summary>
    public static readonly FrozenSet<string> InstanceGroup = FrozenSet.Create(
        StringComparer.Ordinal, "profile", "passive", "host_policy", "secondary_devices", "rate_limiter");

    /// <summary>ModelOptimizationPolicy, less <c>graph</c> (whose level is mapped).</summary>
    public static readonly FrozenSet<string> Optimization = FrozenSet.Create(
        StringComparer.Ordinal,
        "priority", "cuda", "execution_accelerators", "input_pinned_memory", "output_pinned_memory",
        "gather_kernel_buffer_threshold", "eager_batching");
}
