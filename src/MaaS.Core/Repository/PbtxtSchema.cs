using System.Collections.Frozen;

namespace MaaS.Core.Repository;

/// <summary>What a field of Triton's model_config.proto holds, as the text format reads it.</summary>
internal enum PbtxtKind
{
    String,
    Int32,
    Int64,
    UInt32,
    UInt64,
    Float,
    Bool,
    Enum,
    Message,
    Map,
}

/// <summary>
/// One field: <paramref name="Type"/> names the message or enum (<see cref="PbtxtKind.Message"/>,
/// <see cref="PbtxtKind.Enum"/>); a map has <paramref name="MapKey"/> and its value in <paramref name="MapValue"/>.
/// </summary>
internal sealed record PbtxtField(
    string Name, PbtxtKind Kind, bool Repeated = false, string? Type = null, PbtxtKind MapKey = PbtxtKind.String, PbtxtField? MapValue = null);

/// <summary>
/// Triton's ModelConfig message (common/protobuf/model_config.proto) as a table: every message and field Triton has,
/// which are repeated, which are messages, maps and enums, so that config.pbtxt is read as Triton reads it and a field
/// Triton does not have is refused. What the server applies is decided later, by the same check as config.json.
/// </summary>
internal static class PbtxtSchema
{
    public const string Root = "ModelConfig";

    private const string DataType = "DataType";

    public static readonly FrozenDictionary<string, string[]> Enums = new Dictionary<string, string[]>
    {
        // Listed in number order from 0, so that an enum given by number maps to its name by index.
        [DataType] =
        [
            "TYPE_INVALID", "TYPE_BOOL", "TYPE_UINT8", "TYPE_UINT16", "TYPE_UINT32", "TYPE_UINT64", "TYPE_INT8", "TYPE_INT16",
            "TYPE_INT32", "TYPE_INT64", "TYPE_FP16", "TYPE_FP32", "TYPE_FP64", "TYPE_STRING", "TYPE_BF16",
        ],
        ["ModelInstanceGroup.Kind"] = ["KIND_AUTO", "KIND_GPU", "KIND_CPU", "KIND_MODEL"],
        ["SecondaryDevice.Kind"] = ["KIND_NVDLA"],
        ["ModelInput.Format"] = ["FORMAT_NONE", "FORMAT_NHWC", "FORMAT_NCHW"],
        ["BatchInput.Kind"] =
        [
            "BATCH_ELEMENT_COUNT", "BATCH_ACCUMULATED_ELEMENT_COUNT", "BATCH_ACCUMULATED_ELEMENT_COUNT_WITH_ZERO",
            "BATCH_MAX_ELEMENT_COUNT_AS_SHAPE", "BATCH_ITEM_SHAPE", "BATCH_ITEM_SHAPE_FLATTEN",
        ],
        ["BatchOutput.Kind"] = ["BATCH_SCATTER_WITH_INPUT_SHAPE"],
        ["ModelPriority"] = ["PRIORITY_DEFAULT", "PRIORITY_MAX", "PRIORITY_MIN"],
        ["TimeoutAction"] = ["REJECT", "DELAY"],
        ["Control.Kind"] = ["CONTROL_SEQUENCE_START", "CONTROL_SEQUENCE_READY", "CONTROL_SEQUENCE_END", "CONTROL_SEQUENCE_CORRID"],
    }.ToFrozenDictionary(StringComparer.Ordinal);

    public static readonly FrozenDictionary<string, FrozenDictionary<string, PbtxtField>> Messages = new Dictionary<string, PbtxtField[]>
    {
        [Root] =
        [
            Str("name"), Str("platform"), Str("backend"), Str("runtime"), Msg("version_policy", "ModelVersionPolicy"),
            new("max_batch_size", PbtxtKind.Int32), Rep(Msg("input", "ModelInput")), Rep(Msg("output", "ModelOutput")),
            Rep(Msg("batch_input", "BatchInput")), Rep(Msg("batch_output", "BatchOutput")), Msg("optimization", "ModelOptimizationPolicy"),
            Msg("dynamic_batching", "ModelDynamicBatching"), Msg("sequence_batching", "ModelSequenceBatching"),
            Msg("ensemble_scheduling", "ModelEnsembling"), Rep(Msg("instance_group", "ModelInstanceGroup")), Str("default_model_filename"),
            Map("cc_model_filenames", Str("value")), Map("metric_tags", Str("value")), Map("parameters", Msg("value", "ModelParameter")),
            Rep(Msg("model_warmup", "ModelWarmup")), Msg("model_operations", "ModelOperations"),
            Msg("model_transaction_policy", "ModelTransactionPolicy"), Msg("model_repository_agents", "ModelRepositoryAgents"),
            Msg("response_cache", "ModelResponseCache"), Msg("model_metrics", "ModelMetrics"),
        ],
        ["ModelRateLimiter"] = [Rep(Msg("resources", "Resource")), new("priority", PbtxtKind.UInt32)],
        ["Resource"] = [Str("name"), new("global", PbtxtKind.Bool), new("count", PbtxtKind.UInt32)],
        ["ModelInstanceGroup"] =
        [
            Str("name"), Enum("kind", "ModelInstanceGroup.Kind"), new("count", PbtxtKind.Int32), Msg("rate_limiter", "ModelRateLimiter"),
            Rep(new("gpus", PbtxtKind.Int32)), Rep(Msg("secondary_devices", "SecondaryDevice")), Rep(Str("profile")),
            new("passive", PbtxtKind.Bool), Str("host_policy"),
        ],
        ["SecondaryDevice"] = [Enum("kind", "SecondaryDevice.Kind"), new("device_id", PbtxtKind.Int64)],
        ["ModelTensorReshape"] = [Rep(new("shape", PbtxtKind.Int64))],
        ["ModelInput"] =
        [
            Str("name"), Enum("data_type", DataType), Enum("format", "ModelInput.Format"), Rep(new("dims", PbtxtKind.Int64)),
            Msg("reshape", "ModelTensorReshape"), new("is_shape_tensor", PbtxtKind.Bool), new("allow_ragged_batch", PbtxtKind.Bool),
            new("optional", PbtxtKind.Bool), new("is_non_linear_format_io", PbtxtKind.Bool),
        ],
        ["ModelOutput"] =
        [
            Str("name"), Enum("data_type", DataType), Rep(new("dims", PbtxtKind.Int64)), Msg("reshape", "ModelTensorReshape"),
            Str("label_filename"), new("is_shape_tensor", PbtxtKind.Bool), new("is_non_linear_format_io", PbtxtKind.Bool),
        ],
        ["BatchInput"] = [Enum("kind", "BatchInput.Kind"), Rep(Str("target_name")), Enum("data_type", DataType), Rep(Str("source_input"))],
        ["BatchOutput"] = [Rep(Str("target_name")), Enum("kind", "BatchOutput.Kind"), Rep(Str("source_input"))],
        ["ModelVersionPolicy"] = [Msg("latest", "Latest"), Msg("all", "All"), Msg("specific", "Specific")],
        ["Latest"] = [new("num_versions", PbtxtKind.UInt32)],
        ["All"] = [],
        ["Specific"] = [Rep(new("versions", PbtxtKind.Int64))],
        ["ModelOptimizationPolicy"] =
        [
            Msg("graph", "Graph"), Enum("priority", "ModelPriority"), Msg("cuda", "Cuda"),
            Msg("execution_accelerators", "ExecutionAccelerators"), Msg("input_pinned_memory", "PinnedMemoryBuffer"),
            Msg("output_pinned_memory", "PinnedMemoryBuffer"), new("gather_kernel_buffer_threshold", PbtxtKind.UInt32),
            new("eager_batching", PbtxtKind.Bool),
        ],
        ["Graph"] = [new("level", PbtxtKind.Int32)],
        ["Cuda"] =
        [
            new("graphs", PbtxtKind.Bool), new("busy_wait_events", PbtxtKind.Bool), Rep(Msg("graph_spec", "GraphSpec")),
            new("output_copy_stream", PbtxtKind.Bool),
        ],
        ["GraphSpec"] =
        [
            new("batch_size", PbtxtKind.Int32), Map("input", Msg("value", "Shape")), Msg("graph_lower_bound", "LowerBound"),
        ],
        ["Shape"] = [Rep(new("dim", PbtxtKind.Int64))],
        ["LowerBound"] = [new("batch_size", PbtxtKind.Int32), Map("input", Msg("value", "Shape"))],
        ["ExecutionAccelerators"] = [Rep(Msg("gpu_execution_accelerator", "Accelerator")), Rep(Msg("cpu_execution_accelerator", "Accelerator"))],
        ["Accelerator"] = [Str("name"), Map("parameters", Str("value"))],
        ["PinnedMemoryBuffer"] = [new("enable", PbtxtKind.Bool)],
        ["ModelQueuePolicy"] =
        [
            Enum("timeout_action", "TimeoutAction"), new("default_timeout_microseconds", PbtxtKind.UInt64),
            new("allow_timeout_override", PbtxtKind.Bool), new("max_queue_size", PbtxtKind.UInt32),
        ],
        ["ModelDynamicBatching"] =
        [
            Rep(new("preferred_batch_size", PbtxtKind.Int32)), new("max_queue_delay_microseconds", PbtxtKind.UInt64),
            new("preserve_ordering", PbtxtKind.Bool), new("priority_levels", PbtxtKind.UInt64),
            new("default_priority_level", PbtxtKind.UInt64), Msg("default_queue_policy", "ModelQueuePolicy"),
            Map("priority_queue_policy", Msg("value", "ModelQueuePolicy"), PbtxtKind.UInt64),
        ],
        ["ModelSequenceBatching"] =
        [
            Msg("direct", "StrategyDirect"), Msg("oldest", "StrategyOldest"), new("max_sequence_idle_microseconds", PbtxtKind.UInt64),
            Rep(Msg("control_input", "ControlInput")), Rep(Msg("state", "State")), new("iterative_sequence", PbtxtKind.Bool),
        ],
        ["Control"] =
        [
            Enum("kind", "Control.Kind"), Rep(new("int32_false_true", PbtxtKind.Int32)), Rep(new("fp32_false_true", PbtxtKind.Float)),
            Rep(new("bool_false_true", PbtxtKind.Bool)), Enum("data_type", DataType),
        ],
        ["ControlInput"] = [Str("name"), Rep(Msg("control", "Control"))],
        ["InitialState"] =
        [
            Enum("data_type", DataType), Rep(new("dims", PbtxtKind.Int64)), new("zero_data", PbtxtKind.Bool), Str("data_file"), Str("name"),
        ],
        ["State"] =
        [
            Str("input_name"), Str("output_name"), Enum("data_type", DataType), Rep(new("dims", PbtxtKind.Int64)),
            Rep(Msg("initial_state", "InitialState")), new("use_same_buffer_for_input_output", PbtxtKind.Bool),
            new("use_growable_memory", PbtxtKind.Bool),
        ],
        ["StrategyDirect"] = [new("max_queue_delay_microseconds", PbtxtKind.UInt64), new("minimum_slot_utilization", PbtxtKind.Float)],
        ["StrategyOldest"] =
        [
            new("max_candidate_sequences", PbtxtKind.Int32), Rep(new("preferred_batch_size", PbtxtKind.Int32)),
            new("max_queue_delay_microseconds", PbtxtKind.UInt64), new("preserve_ordering", PbtxtKind.Bool),
        ],
        ["ModelEnsembling"] = [Rep(Msg("step", "Step")), new("max_inflight_responses", PbtxtKind.UInt32)],
        ["Step"] =
        [
            Str("model_name"), new("model_version", PbtxtKind.Int64), Map("input_map", Str("value")), Map("output_map", Str("value")),
            Str("model_namespace"),
        ],
        ["ModelParameter"] = [Str("string_value")],
        ["ModelWarmup"] =
        [
            Str("name"), new("batch_size", PbtxtKind.UInt32), Map("inputs", Msg("value", "ModelWarmup.Input")), new("count", PbtxtKind.UInt32),
        ],
        ["ModelWarmup.Input"] =
        [
            Enum("data_type", DataType), Rep(new("dims", PbtxtKind.Int64)), new("zero_data", PbtxtKind.Bool),
            new("random_data", PbtxtKind.Bool), Str("input_data_file"),
        ],
        ["ModelOperations"] = [Rep(Str("op_library_filename"))],
        ["ModelTransactionPolicy"] = [new("decoupled", PbtxtKind.Bool)],
        ["ModelRepositoryAgents"] = [Rep(Msg("agents", "Agent"))],
        ["Agent"] = [Str("name"), Map("parameters", Str("value"))],
        ["ModelResponseCache"] = [new("enable", PbtxtKind.Bool)],
        ["ModelMetrics"] = [Rep(Msg("metric_control", "MetricControl"))],
        ["MetricControl"] = [Msg("metric_identifier", "MetricIdentifier"), Msg("histogram_options", "HistogramOptions")],
        ["MetricIdentifier"] = [Str("family")],
        ["HistogramOptions"] = [Rep(new("buckets", PbtxtKind.Float))],
    }.ToFrozenDictionary(
        pair => pair.Key,
        pair => pair.Value.ToFrozenDictionary(field => field.Name, StringComparer.Ordinal),
        StringComparer.Ordinal);

    private static PbtxtField Str(string name) => new(name, PbtxtKind.String);

    private static PbtxtField Msg(string name, string type) => new(name, PbtxtKind.Message, Type: type);

    private static PbtxtField Enum(string name, string type) => new(name, PbtxtKind.Enum, Type: type);

    private static PbtxtField Rep(PbtxtField field) => field with { Repeated = true };

    private static PbtxtField Map(string name, PbtxtField value, PbtxtKind key = PbtxtKind.String) =>
        new(name, PbtxtKind.Map, MapKey: key, MapValue: value);
}
