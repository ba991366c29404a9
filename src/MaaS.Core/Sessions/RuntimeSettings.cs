using MaaS.Core.Config;
using MaaS.Core.Repository;

namespace MaaS.Core.Sessions;

/// <summary>Where one instance runs: the server's provider (auto), the CPU, or a CUDA device.</summary>
public sealed record InstancePlacement(InstanceKind Kind, int DeviceId);

/// <summary>Triton's instance kinds, as far as they mean something here.</summary>
public enum InstanceKind
{
    Auto,
    Cpu,
    Gpu,
}

/// <summary>
/// How a model version's sessions are built: instances (config <c>instance_group</c>, else
/// <c>MaaS:Sessions:InstanceCount</c>) and ONNX Runtime options, mapped from a config that <see cref="ModelConfigReader"/>
/// has already checked. Each option comes from the first that sets it: our key in <c>optimization</c>, then the
/// <c>parameters</c> Triton's ONNX Runtime backend reads (<see cref="OnnxRuntimeParameters"/>), then the
/// <c>MaaS:Sessions</c> default.
/// </summary>
/// <param name="Instances">The placements; with <paramref name="AutoInstances"/>, one placeholder until the loader chooses.</param>
/// <param name="AutoInstances">True when neither the config nor the server names a count: the loader times candidates.</param>
/// <param name="GraphOptimizationLevel">disable, basic, extended or all.</param>
/// <param name="IntraOpThreads">Threads per Run as configured; 0 = the CPU budget shared among the instances (<see cref="ThreadsPerInstance"/>).</param>
/// <param name="InterOpThreads">Threads for independent operators; 0 = ONNX Runtime's choice.</param>
/// <param name="MemoryPattern">Pre-plan memory for fixed shapes.</param>
/// <param name="CpuMemArena">ONNX Runtime's CPU memory arena.</param>
/// <param name="ParallelExecution">Independent operators run in parallel (ONNX Runtime's ORT_PARALLEL); else one at a time.</param>
/// <param name="IntraOpWithinBudget">
/// True when <paramref name="IntraOpThreads"/> is Triton's <c>intra_op_thread_count</c>, which is held to the CPU budget
/// (a count written for another machine must not oversubscribe this one); ours and the server's are taken as given.
/// </param>
internal sealed record RuntimeSettings(
    IReadOnlyList<InstancePlacement> Instances, bool AutoInstances, string GraphOptimizationLevel, int IntraOpThreads, int InterOpThreads,
    bool MemoryPattern, bool CpuMemArena, bool ParallelExecution, bool IntraOpWithinBudget)
{
    public const int MaxInstances = 64;

    public static RuntimeSettings From(ModelConfig? config, SessionsOptions defaults)
    {
        var optimization = config?.Optimization;
        var triton = OnnxRuntimeParameters.Read(config?.Parameters);
        var fixedCount = defaults.FixedInstanceCount;
        return new RuntimeSettings(
            Placements(config?.InstanceGroup, fixedCount ?? 1),
            config?.InstanceGroup is null && fixedCount is null,
            optimization?.EffectiveGraphLevel ?? defaults.GraphOptimizationLevel,
            (int?)optimization?.IntraOpThreads ?? triton.IntraOpThreads ?? defaults.IntraOpThreads,
            (int?)optimization?.InterOpThreads ?? triton.InterOpThreads ?? defaults.InterOpThreads,
            optimization?.EnableMemoryPattern ?? triton.MemoryPattern ?? defaults.EnableMemoryPattern,
            optimization?.EnableCpuMemArena ?? triton.CpuMemArena ?? defaults.EnableCpuMemArena,
            triton.ParallelExecution ?? false,
            optimization?.IntraOpThreads is null && triton.IntraOpThreads is > 0);
    }

    /// <summary>
    /// Intra-op threads for each of <paramref name="instances"/> sessions: the configured number, else the CPUs the
    /// process may use (<paramref name="cpus"/>) divided among them, at least one, so that they never oversubscribe.
    /// Triton's <c>intra_op_thread_count</c> gets no more than that share (<see cref="IntraOpWithinBudget"/>).
    /// </summary>
    public int ThreadsPerInstance(int instances, int cpus)
    {
        var share = Math.Max(1, cpus / instances);
        return IntraOpThreads <= 0 ? share : IntraOpWithinBudget ? Math.Min(IntraOpThreads, share) : IntraOpThreads;
    }

    /// <summary>These settings with <paramref name="count"/> instances where the server chose the count (auto).</summary>
    public RuntimeSettings WithInstanceCount(int count) =>
        this with { Instances = Enumerable.Repeat(new InstancePlacement(InstanceKind.Auto, 0), count).ToList(), AutoInstances = false };

    private static List<InstancePlacement> Placements(List<InstanceGroupConfig>? groups, int defaultCount)
    {
        if (groups is null)
        {
            return Enumerable.Repeat(new InstancePlacement(InstanceKind.Auto, 0), defaultCount).ToList();
        }

        var instances = new List<InstancePlacement>();
        foreach (var group in groups)
        {
            var kind = group.Kind switch
            {
                "KIND_GPU" => InstanceKind.Gpu,
                "KIND_CPU" => InstanceKind.Cpu,
                _ => InstanceKind.Auto, // KIND_AUTO, KIND_MODEL or absent: the validator let nothing else through
            };
            var gpus = group.Gpus is { Length: > 0 } listed ? listed : [0];
            for (var i = 0; i < (group.Count ?? 1); i++)
            {
                // Triton places count instances on each listed GPU; one list entry per instance here, cycling.
                instances.Add(new InstancePlacement(kind, (int)gpus[i % gpus.Length]));
            }
        }

        return instances;
    }
}
