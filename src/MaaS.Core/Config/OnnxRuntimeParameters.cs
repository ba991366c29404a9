using System.Collections.Frozen;
using System.Globalization;
using MaaS.Core.Repository;

namespace MaaS.Core.Config;

/// <summary>
/// The model config <c>parameters</c> that Triton's ONNX Runtime backend reads as session options, read as it reads
/// them (every value a <c>string_value</c>): <c>intra_op_thread_count</c> and <c>inter_op_thread_count</c> (integers,
/// 0 = the default), <c>execution_mode</c> ("0" sequential, "1" parallel), <c>enable_mem_arena</c> and
/// <c>enable_mem_pattern</c> ("1"/"0", "true"/"false", "on"/"off"). A value the backend would refuse is refused here,
/// naming the key. The keys of <c>optimization</c> that are ours say the same thing and win over these.
/// </summary>
/// <param name="IntraOpThreads">Threads per Run; 0 = the server's share of the CPU budget.</param>
/// <param name="InterOpThreads">Threads for independent operators (parallel execution only); 0 = ONNX Runtime's choice.</param>
/// <param name="ParallelExecution">Run independent operators in parallel (execution_mode 1).</param>
/// <param name="MemoryPattern">Pre-plan memory for fixed shapes.</param>
/// <param name="CpuMemArena">ONNX Runtime's CPU memory arena.</param>
internal sealed record OnnxRuntimeParameters(int? IntraOpThreads, int? InterOpThreads, bool? ParallelExecution, bool? MemoryPattern, bool? CpuMemArena)
{
    public const string IntraOpThreadCount = "intra_op_thread_count";
    public const string InterOpThreadCount = "inter_op_thread_count";
    public const string ExecutionMode = "execution_mode";
    public const string EnableMemPattern = "enable_mem_pattern";
    public const string EnableMemArena = "enable_mem_arena";

    /// <summary>The most threads a count may ask for, as <c>optimization.intra_op_threads</c>.</summary>
    public const int MaxThreads = 1024;

    private static readonly FrozenSet<string> True = new[] { "1", "true", "on" }.ToFrozenSet(StringComparer.OrdinalIgnoreCase);
    private static readonly FrozenSet<string> False = new[] { "0", "false", "off" }.ToFrozenSet(StringComparer.OrdinalIgnoreCase);

    /// <summary>Reads the keys from <paramref name="parameters"/>; throws <see cref="ModelConfigException"/> naming a bad one.</summary>
    public static OnnxRuntimeParameters Read(IReadOnlyDictionary<string, ModelParameterConfig>? parameters) => new(
        Threads(parameters, IntraOpThreadCount),
        Threads(parameters, InterOpThreadCount),
        Value(parameters, ExecutionMode) switch
        {
            null => null,
            "0" => false,
            "1" => true,
            var other => throw Invalid(ExecutionMode, "\"0\" (sequential) or \"1\" (parallel)", other),
        },
        Switch(parameters, EnableMemPattern),
        Switch(parameters, EnableMemArena));

    /// <summary>
    /// Whether the server applies the parameter <paramref name="key"/>: one of the backend's keys above that no key of
    /// ours in <paramref name="ours"/> overrides. Every other parameter is accepted and reported as ignored.
    /// </summary>
    public static bool IsApplied(string key, OptimizationConfig? ours) => key switch
    {
        IntraOpThreadCount => ours?.IntraOpThreads is null,
        InterOpThreadCount => ours?.InterOpThreads is null,
        ExecutionMode => true,
        EnableMemPattern => ours?.EnableMemoryPattern is null,
        EnableMemArena => ours?.EnableCpuMemArena is null,
        _ => false,
    };

    private static string? Value(IReadOnlyDictionary<string, ModelParameterConfig>? parameters, string key)
    {
        if (parameters is null || !parameters.TryGetValue(key, out var parameter) || parameter is null)
        {
            return null;
        }

        return parameter.StringValue ?? throw new ModelConfigException(
            $"config.json: parameters.{key} needs a string_value, as Triton's ONNX Runtime backend reads it");
    }

    private static int? Threads(IReadOnlyDictionary<string, ModelParameterConfig>? parameters, string key)
    {
        var value = Value(parameters, key);
        if (value is null)
        {
            return null;
        }

        return int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var threads) && threads <= MaxThreads
            ? threads
            : throw Invalid(key, $"an integer from 0 to {MaxThreads}", value);
    }

    private static bool? Switch(IReadOnlyDictionary<string, ModelParameterConfig>? parameters, string key)
    {
        var value = Value(parameters, key);
        return value is null ? null
            : True.Contains(value) ? true
            : False.Contains(value) ? false
            : throw Invalid(key, "\"1\" or \"0\" (also true/false, on/off)", value);
    }

    private static ModelConfigException Invalid(string key, string expected, string value) =>
        new($"config.json: parameters.{key} must be {expected}, not \"{value}\"");
}
