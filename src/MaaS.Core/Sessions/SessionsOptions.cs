using System.ComponentModel.DataAnnotations;

namespace MaaS.Core.Sessions;

/// <summary>The <c>MaaS:Sessions</c> section: server-wide defaults for ONNX Runtime sessions and the loaded-model budget.</summary>
public sealed class SessionsOptions
{
    public const string SectionName = "MaaS:Sessions";

    /// <summary>The <see cref="InstanceCount"/> that lets the server choose.</summary>
    public const string Auto = "auto";

    /// <summary>
    /// Sessions per model version when its config has no instance_group: <c>auto</c> (default) or 1 to 64. <c>auto</c>
    /// times, at load, one session using every CPU against several smaller ones and keeps the faster
    /// (see OnnxModelLoader; measured in docs/performance.md).
    /// </summary>
    [Required(ErrorMessage = "MaaS:Sessions:InstanceCount must be auto or a number from 1 to 64")]
    [RegularExpression("^(auto|[1-9]|[1-5][0-9]|6[0-4])$", ErrorMessage = "MaaS:Sessions:InstanceCount must be auto or a number from 1 to 64")]
    public string InstanceCount { get; set; } = Auto;

    /// <summary>
    /// Threads one Run may use inside an operator; 0 (default) = the CPUs the process may use divided among the
    /// version's instances, so that instances x threads never exceeds them. 0 to 1024.
    /// </summary>
    [Range(0, 1024)]
    public int IntraOpThreads { get; set; }

    /// <summary>
    /// Whether ONNX Runtime's pool threads spin while they wait for work (faster hand-over, CPU burnt while idle):
    /// unset (default) = only when a version runs a single session, since sessions sharing the CPUs would spin against
    /// each other's work; true or false forces it for every session (measured in docs/performance.md).
    /// </summary>
    public bool? AllowSpinning { get; set; }

    /// <summary>
    /// With <c>auto</c> instances: when several sessions are chosen and the one-session candidate ran a request clearly
    /// faster than one of them (a model whose operators split over threads), keep that session too, for a request that
    /// finds every instance idle, so a request alone uses every CPU. Costs one more copy of the weights. Not with
    /// dynamic batching.
    /// </summary>
    public bool LoneRequestSession { get; set; } = true;

    /// <summary>Threads for running independent operators in parallel; 0 = ONNX Runtime's choice. Default 0, 0 to 1024.</summary>
    [Range(0, 1024)]
    public int InterOpThreads { get; set; }

    /// <summary>
    /// One process-wide ONNX Runtime thread pool shared by every session, sized by <see cref="IntraOpThreads"/> (0: the CPUs the process may use) and
    /// <see cref="InterOpThreads"/>, so that many sessions do not each start a pool per core. Default false.
    /// </summary>
    public bool UseGlobalThreadPool { get; set; }

    /// <summary>Graph optimisation: disable, basic, extended or all. Default all.</summary>
    [RegularExpression("^(disable|basic|extended|all)$", ErrorMessage = "MaaS:Sessions:GraphOptimizationLevel must be disable, basic, extended or all")]
    public string GraphOptimizationLevel { get; set; } = "all";

    /// <summary>Pre-plan memory for fixed shapes. Default true.</summary>
    public bool EnableMemoryPattern { get; set; } = true;

    /// <summary>ONNX Runtime's CPU memory arena: faster allocation, memory kept after peaks. Default true.</summary>
    public bool EnableCpuMemArena { get; set; } = true;

    /// <summary>Run one zero-filled request per version (when its config has no model_warmup) before it reports READY. Default true.</summary>
    public bool DefaultWarmup { get; set; } = true;

    /// <summary>Most model versions loaded at once; 0 = no limit. Over it, the least recently used idle version is evicted. Default 0.</summary>
    [Range(0, 100_000)]
    public int MaxLoadedVersions { get; set; }

    /// <summary>Most bytes the loaded versions may take (as measured when each loaded); 0 = no limit. Default 0.</summary>
    [Range(0, long.MaxValue)]
    public long MemoryBudgetBytes { get; set; }

    /// <summary>How long a request waits for an evicted version to load again before a 503. Default 30, 1 to 3600.</summary>
    [Range(1, 3600)]
    public int LoadTimeoutSeconds { get; set; } = 30;

    /// <summary>
    /// How long a request waits for a free instance of its model version (all busy) before a 503; a request's own
    /// <c>timeout</c> parameter (microseconds) may shorten it. Default 30, 1 to 3600.
    /// </summary>
    [Range(1, 3600)]
    public int SessionWaitTimeoutSeconds { get; set; } = 30;

    /// <summary>The configured instance count, or null for <c>auto</c>.</summary>
    internal int? FixedInstanceCount =>
        string.Equals(InstanceCount, Auto, StringComparison.OrdinalIgnoreCase) ? null : int.Parse(InstanceCount, System.Globalization.CultureInfo.InvariantCulture);
}
