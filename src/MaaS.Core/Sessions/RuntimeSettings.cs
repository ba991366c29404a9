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
/// How a model version's sessions are built: instances (config <c>instance_group</c>) and ONNX Runtime options
/// (config <c>optimization</c> over the <c>MaaS:Sessions</c> defaults), mapped from a config that
/// <see cref="ModelConfigReader"/> has already checked.
/// </summary>
internal sealed record RuntimeSettings(
    IReadOnlyList<InstancePlacement> Instances, string GraphOptimizationLevel, int IntraOpThreads, int InterOpThreads, bool MemoryPattern, bool CpuMemArena)
{
    public const int MaxInstances = 64;

    public static RuntimeSettings From(ModelConfig? config, SessionsOptions defaults)
    {
        var optimization = config?.Optimization;
        return new RuntimeSettings(
            Placements(config?.InstanceGroup, defaults.InstanceCount),
            optimization?.EffectiveGraphLevel ?? defaults.GraphOptimizationLevel,
            (int?)optimization?.IntraOpThreads ?? defaults.IntraOpThreads,
            (int?)optimization?.InterOpThreads ?? defaults.InterOpThreads,
            optimization?.EnableMemoryPattern ?? defaults.EnableMemoryPattern,
            optimization?.EnableCpuMemArena ?? defaults.EnableCpuMemArena);
    }

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
