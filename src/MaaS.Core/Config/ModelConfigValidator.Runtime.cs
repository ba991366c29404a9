using MaaS.Core.Sessions;

namespace MaaS.Core.Config;

/// <summary><c>instance_group</c> and <c>optimization</c>: how a version's sessions are built.</summary>
internal sealed partial class ModelConfigValidator
{
    /// <summary>Instance kinds <see cref="RuntimeSettings"/> maps; KIND_MODEL means "where the model says", here the server's provider.</summary>
    internal static readonly string[] InstanceKinds = ["KIND_AUTO", "KIND_CPU", "KIND_GPU", "KIND_MODEL"];

    private static readonly string[] GraphLevels = ["disable", "basic", "extended", "all"];

    private void InstanceGroups()
    {
        var groups = _config.InstanceGroup;
        if (groups is null)
        {
            return;
        }

        long total = 0;
        for (var i = 0; i < groups.Count; i++)
        {
            var path = $"instance_group[{i}]";
            var group = Entry(groups[i], path);
            SortKeys(group.Unknown, path, TritonConfigKeys.InstanceGroup, typeof(InstanceGroupConfig));
            total += Range(group.Count, 1, $"{path}.count", 1, RuntimeSettings.MaxInstances);
            if (group.Kind is { } kind && Array.IndexOf(InstanceKinds, kind) < 0)
            {
                throw Error($"{path}.kind '{kind}' must be KIND_CPU, KIND_GPU, KIND_AUTO or KIND_MODEL");
            }

            for (var j = 0; j < (group.Gpus?.Length ?? 0); j++)
            {
                Range(group.Gpus![j], 0, $"{path}.gpus[{j}]", 0, 255);
            }
        }

        if (total is < 1 or > RuntimeSettings.MaxInstances)
        {
            throw Error($"instance_group asks for {total} instances; 1 to {RuntimeSettings.MaxInstances} are allowed");
        }
    }

    private void Optimization()
    {
        if (_config.Optimization is not { } optimization)
        {
            return;
        }

        SortKeys(optimization.Unknown, "optimization", TritonConfigKeys.Optimization, typeof(OptimizationConfig));
        if (optimization.GraphOptimizationLevel is { } level && Array.IndexOf(GraphLevels, level) < 0)
        {
            throw Error("optimization.graph_optimization_level must be \"disable\", \"basic\", \"extended\" or \"all\"");
        }

        Range(optimization.IntraOpThreads, 0, "optimization.intra_op_threads", 0, 1024);
        Range(optimization.InterOpThreads, 0, "optimization.inter_op_threads", 0, 1024);
        if (optimization.Graph is { } graph)
        {
            SortKeys(graph.Unknown, "optimization.graph", TritonConfigKeys.None, typeof(GraphConfig));
            Range(graph.Level, 0, "optimization.graph.level", int.MinValue, int.MaxValue);
            if (graph.Level is not null && optimization.GraphOptimizationLevel is not null)
            {
                throw Error("optimization.graph.level (Triton's) and optimization.graph_optimization_level (ours) are both set; keep one");
            }
        }
    }
}
