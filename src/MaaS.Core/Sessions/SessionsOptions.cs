using System.ComponentModel.DataAnnotations;

namespace MaaS.Core.Sessions;

/// <summary>The <c>MaaS:Sessions</c> section: server-wide defaults for ONNX Runtime sessions and the loaded-model budget.</summary>
public sealed class SessionsOptions
{
    public const string SectionName = "MaaS:Sessions";

    /// <summary>Sessions per model version when its config has no instance_group. Default 2 (measured: docs/performance.md), 1 to 64.</summary>
    [Range(1, 64)]
    public int InstanceCount { get; set; } = 2;

    /// <summary>Threads one Run may use inside an operator; 0 = ONNX Runtime's choice (one per core). Default 0, 0 to 1024.</summary>
    [Range(0, 1024)]
    public int IntraOpThreads { get; set; }

    /// <summary>Threads for running independent operators in parallel; 0 = ONNX Runtime's choice. Default 0, 0 to 1024.</summary>
    [Range(0, 1024)]
    public int InterOpThreads { get; set; }

    /// <summary>
    /// One process-wide ONNX Runtime thread pool shared by every session, sized by <see cref="IntraOpThreads"/> and
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
}
