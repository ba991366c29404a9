using System.Globalization;
using MaaS.Core.Batching;

namespace MaaS.Core.Config;

/// <summary><c>dynamic_batching</c>: Triton's ranges, and the priority levels its queue policies name.</summary>
internal sealed partial class ModelConfigValidator
{
    private void DynamicBatching()
    {
        if (_config.DynamicBatching is not { } batching)
        {
            return;
        }

        const string Path = "dynamic_batching";
        SortKeys(batching.Unknown, Path, TritonConfigKeys.None, typeof(DynamicBatchingConfig));

        // With max_batch_size absent it is inferred from the ONNX file; the load checks the sizes against it then.
        var maxRows = _config.MaxBatchSize is { } max ? Math.Max(max, 1) : int.MaxValue;
        for (var i = 0; i < (batching.PreferredBatchSize?.Length ?? 0); i++)
        {
            Range(batching.PreferredBatchSize![i], 0, $"{Path}.preferred_batch_size[{i}]", 1, maxRows);
        }

        Range(batching.MaxQueueDelayMicroseconds, 0, $"{Path}.max_queue_delay_microseconds", 0, BatchingPolicy.MaxMicroseconds);
        var levels = Math.Max(Range(batching.PriorityLevels, 0, $"{Path}.priority_levels", 0, BatchingPolicy.MaxPriorityLevels), 1);
        var defaultLevel = Range(batching.DefaultPriorityLevel, 0, $"{Path}.default_priority_level", 0, levels);
        if (defaultLevel == 0 && levels > 1)
        {
            // Triton requires the default level once there are several; with one, everything is level 1.
            throw Error($"{Path}.default_priority_level must be from 1 to {levels} when priority_levels is set");
        }

        QueuePolicy(batching.DefaultQueuePolicy, $"{Path}.default_queue_policy");
        foreach (var (key, policy) in batching.PriorityQueuePolicy ?? [])
        {
            var path = $"{Path}.priority_queue_policy.{key}";
            if (!int.TryParse(key, NumberStyles.None, CultureInfo.InvariantCulture, out var level) || level < 1 || level > levels)
            {
                throw Error($"{path}: the key must be a priority level from 1 to {levels} (priority_levels)");
            }

            QueuePolicy(Entry(policy, path), path);
        }
    }

    private void QueuePolicy(QueuePolicyConfig? policy, string path)
    {
        if (policy is null)
        {
            return;
        }

        SortKeys(policy.Unknown, path, TritonConfigKeys.None, typeof(QueuePolicyConfig));
        Range(policy.DefaultTimeoutMicroseconds, 0, $"{path}.default_timeout_microseconds", 0, BatchingPolicy.MaxMicroseconds);
        Range(policy.MaxQueueSize, 0, $"{path}.max_queue_size", 0, int.MaxValue);
    }
}
