using System.Text.Json;
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
/// (config <c>optimization</c> over the <c>MaaS:Sessions</c> defaults). Errors name the config key.
/// </summary>
public sealed record RuntimeSettings(
    IReadOnlyList<InstancePlacement> Instances, string GraphOptimizationLevel, int IntraOpThreads, int InterOpThreads, bool MemoryPattern, bool CpuMemArena)
{
    public const int MaxInstances = 64;

    private static readonly HashSet<string> OptimizationKeys =
        ["graph_optimization_level", "intra_op_threads", "inter_op_threads", "enable_memory_pattern", "enable_cpu_mem_arena"];

    private static readonly HashSet<string> InstanceKeys = ["name", "kind", "count", "gpus", "profile", "passive", "host_policy", "secondary_devices", "rate_limiter"];

    public static RuntimeSettings From(ModelConfig? config, SessionsOptions defaults)
    {
        var instances = ParseInstances(config?.InstanceGroup, defaults.InstanceCount);
        string level = defaults.GraphOptimizationLevel;
        int intra = defaults.IntraOpThreads, inter = defaults.InterOpThreads;
        bool pattern = defaults.EnableMemoryPattern, arena = defaults.EnableCpuMemArena;
        if (config?.Optimization is { } optimization)
        {
            Expect(optimization, JsonValueKind.Object, "optimization");
            foreach (var property in optimization.EnumerateObject())
            {
                var key = $"optimization.{property.Name}";
                switch (property.Name)
                {
                    case "graph_optimization_level":
                        level = property.Value.ValueKind == JsonValueKind.String && property.Value.GetString() is "disable" or "basic" or "extended" or "all"
                            ? property.Value.GetString()!
                            : throw new ModelConfigException($"config.json: {key} must be \"disable\", \"basic\", \"extended\" or \"all\"");
                        break;
                    case "intra_op_threads":
                        intra = Integer(property.Value, key, 0, 1024);
                        break;
                    case "inter_op_threads":
                        inter = Integer(property.Value, key, 0, 1024);
                        break;
                    case "enable_memory_pattern":
                        pattern = Boolean(property.Value, key);
                        break;
                    case "enable_cpu_mem_arena":
                        arena = Boolean(property.Value, key);
                        break;
                    default:
                        throw new ModelConfigException(
                            $"config.json: unknown key '{key}'; expected {string.Join(", ", OptimizationKeys.Order(StringComparer.Ordinal))}");
                }
            }
        }

        return new RuntimeSettings(instances, level, intra, inter, pattern, arena);
    }

    private static List<InstancePlacement> ParseInstances(JsonElement? groups, int defaultCount)
    {
        if (groups is not { } array)
        {
            return Enumerable.Repeat(new InstancePlacement(InstanceKind.Auto, 0), defaultCount).ToList();
        }

        Expect(array, JsonValueKind.Array, "instance_group");
        var instances = new List<InstancePlacement>();
        var index = 0;
        foreach (var group in array.EnumerateArray())
        {
            var path = $"instance_group[{index++}]";
            Expect(group, JsonValueKind.Object, path);
            foreach (var property in group.EnumerateObject().Where(property => !InstanceKeys.Contains(property.Name)))
            {
                throw new ModelConfigException($"config.json: unknown key '{path}.{property.Name}'");
            }

            var count = group.TryGetProperty("count", out var countValue) ? Integer(countValue, $"{path}.count", 1, MaxInstances) : 1;
            var kind = group.TryGetProperty("kind", out var kindValue) ? kindValue.GetString() : "KIND_AUTO";
            var instanceKind = kind switch
            {
                "KIND_GPU" => InstanceKind.Gpu,
                "KIND_CPU" => InstanceKind.Cpu,
                "KIND_AUTO" or "KIND_MODEL" => InstanceKind.Auto,
                _ => throw new ModelConfigException($"config.json: {path}.kind '{kind}' must be KIND_CPU, KIND_GPU, KIND_AUTO or KIND_MODEL"),
            };
            var gpus = group.TryGetProperty("gpus", out var gpusValue) ? Devices(gpusValue, $"{path}.gpus") : [0];
            for (var i = 0; i < count; i++)
            {
                // Triton places count instances on each listed GPU; one list entry per instance here, cycling.
                instances.Add(new InstancePlacement(instanceKind, gpus[i % gpus.Count]));
            }
        }

        return instances.Count is > 0 and <= MaxInstances
            ? instances
            : throw new ModelConfigException($"config.json: instance_group asks for {instances.Count} instances; 1 to {MaxInstances} are allowed");
    }

    private static List<int> Devices(JsonElement value, string key)
    {
        Expect(value, JsonValueKind.Array, key);
        var devices = value.EnumerateArray().Select((device, i) => Integer(device, $"{key}[{i}]", 0, 255)).ToList();
        return devices.Count > 0 ? devices : [0];
    }

    private static int Integer(JsonElement value, string key, int min, int max) =>
        value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var number) && number >= min && number <= max
            ? number
            : throw new ModelConfigException($"config.json: {key} must be an integer from {min} to {max}, not {value.GetRawText()}");

    private static bool Boolean(JsonElement value, string key) => value.ValueKind switch
    {
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => throw new ModelConfigException($"config.json: {key} must be true or false"),
    };

    private static void Expect(JsonElement value, JsonValueKind kind, string key)
    {
        if (value.ValueKind != kind)
        {
            throw new ModelConfigException($"config.json: {key} must be a JSON {kind.ToString().ToLowerInvariant()}");
        }
    }
}
