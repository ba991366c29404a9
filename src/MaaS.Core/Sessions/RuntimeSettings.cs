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
/// <c>MaaS:Sessions:InstanceCount</c>) and ONNX Runtime options (config <c>optimization</c> over the
/// <c>MaaS:Sessions</c> defaults), mapped from a config that <see cref="ModelConfigReader"/> has already checked.
/// </summary>
/// <param name="Instances">The placements; with <paramref name="AutoInstances"/>, one placeholder until the loader chooses.</param>
/// <param name="AutoInstances">True when neither the config nor the server names a count: the loader times candidates.</param>
/// <param name="GraphOptimizationLevel">disable, basic, extended or all.</param>
/// <param name="IntraOpThreads">Threads per Run as configured; 0 = the CPU budget shared among the instances (<see cref="ThreadsPerInstance"/>).</param>
/// <param name="InterOpThreads">Threads for independent operators; 0 = ONNX Runtime's choice.</param>
/// <param name="MemoryPattern">Pre-plan memory for fixed shapes.</param>
/// <param name="CpuMemArena">ONNX Runtime's CPU memory arena.</param>
internal sealed record RuntimeSettings(
    IReadOnlyList<InstancePlacement> Instances, bool AutoInstances, string GraphOptimizationLevel, int IntraOpThreads, int InterOpThreads,
    bool MemoryPattern, bool CpuMemArena)
{
    public const int MaxInstances = 64;

    public static RuntimeSettings From(ModelConfig? config, SessionsOptions defaults)
    {
        var optimization = config?.Optimization;
        var fixedCount = defaults.FixedInstanceCount;
        return new RuntimeSettings(
            Placements(config?.InstanceGroup, fixedCount ?? 1),
            config?.InstanceGroup is null && fixedCount is null,
            optimization?.EffectiveGraphLevel ?? defaults.GraphOptimizationLevel,
            (int?)optimization?.IntraOpThreads ?? defaults.IntraOpThreads,
            (int?)optimization?.InterOpThreads ?? defaults.InterOpThreads,
            optimization?.EnableMemoryPattern ?? defaults.EnableMemoryPattern,
            optimization?.EnableCpuMemArena ?? defaults.EnableCpuMemArena);
    }

    /// <summary>
    /// Intra-op threads for each of <paramref name="instances"/> sessions: the configured number, else the CPUs the
    /// process may use (<paramref name="cpus"/>) divided among them, at least one, so that they never oversubscribe.
    /// </summary>
    public int ThreadsPerInstance(int instances, int cpus) => IntraOpThreads > 0 ? IntraOpThreads : Math.Max(1, cpus / instances);

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
