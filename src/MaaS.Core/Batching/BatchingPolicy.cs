using System.Globalization;
using System.Text.Json;
using MaaS.Core.Repository;

namespace MaaS.Core.Batching;

/// <summary>What happens to a request whose queue timeout expires before it runs (Triton's <c>timeout_action</c>).</summary>
public enum TimeoutAction
{
    /// <summary>Answered at once with 503.</summary>
    Reject,

    /// <summary>Kept, behind every request of its priority level that has not timed out.</summary>
    Delay,
}

/// <summary>Triton's <c>ModelQueuePolicy</c>: the limits of one priority level's queue.</summary>
/// <param name="MaxQueueSize">Most requests waiting at this level; 0 = unbounded. Full: 503 at once.</param>
/// <param name="DefaultTimeout">How long a request may wait; zero = forever.</param>
/// <param name="TimeoutAction">What an expired request gets: REJECT (503) or DELAY.</param>
/// <param name="AllowTimeoutOverride">A request's <c>timeout</c> parameter may shorten <paramref name="DefaultTimeout"/>.</param>
public sealed record QueuePolicy(int MaxQueueSize, TimeSpan DefaultTimeout, TimeoutAction TimeoutAction, bool AllowTimeoutOverride)
{
    public static readonly QueuePolicy Unbounded = new(0, TimeSpan.Zero, TimeoutAction.Reject, false);

    /// <summary>The timeout of a request that asked for <paramref name="requestTimeoutMicroseconds"/> (0 = did not ask); zero = none.</summary>
    public TimeSpan TimeoutFor(long requestTimeoutMicroseconds)
    {
        // As Triton: the request's value only ever shortens a set default, so a default of "no timeout" stays.
        var requested = TimeSpan.FromMicroseconds(requestTimeoutMicroseconds);
        return AllowTimeoutOverride && requestTimeoutMicroseconds > 0 && requested < DefaultTimeout ? requested : DefaultTimeout;
    }
}

/// <summary>
/// A model's <c>dynamic_batching</c> (Triton's field names): how requests wait to be batched together. Requests are
/// batched along the implicit batch dimension up to the model's <c>max_batch_size</c>; a model without one
/// (<c>max_batch_size</c> 0) still gets the queue (priorities, timeouts, size limit) with one request per run.
/// </summary>
public sealed record BatchingPolicy(
    int MaxBatchSize,
    IReadOnlyList<int> PreferredBatchSizes,
    TimeSpan MaxQueueDelay,
    int PriorityLevels,
    int DefaultPriorityLevel,
    IReadOnlyList<QueuePolicy> QueuePolicies)
{
    private const long MaxMicroseconds = 3_600_000_000; // an hour: anything longer is a typo, not a policy

    private static readonly string[] Keys =
    [
        "preferred_batch_size", "max_queue_delay_microseconds", "preserve_ordering", "priority_levels", "default_priority_level",
        "default_queue_policy", "priority_queue_policy",
    ];

    private static readonly string[] QueuePolicyKeys = ["timeout_action", "default_timeout_microseconds", "allow_timeout_override", "max_queue_size"];

    /// <summary>Rows one run takes at most: the model's max_batch_size, or 1 for a model without a batch dimension.</summary>
    public int MaxRows => Math.Max(MaxBatchSize, 1);

    /// <summary>The queue policy of a 1-based priority level.</summary>
    public QueuePolicy PolicyOf(int level) => QueuePolicies[level - 1];

    /// <summary>The 1-based level a request asking for <paramref name="priority"/> runs at: as Triton, 0 or a level the model lacks means the default.</summary>
    public int LevelOf(long priority) => priority >= 1 && priority <= PriorityLevels ? (int)priority : DefaultPriorityLevel;

    /// <summary>The policy of <paramref name="config"/>, or null when it has no <c>dynamic_batching</c>. Errors name the key.</summary>
    public static BatchingPolicy? From(ModelConfig? config, int maxBatchSize)
    {
        if (config?.DynamicBatching is not { } batching)
        {
            return null;
        }

        if (batching.ValueKind != JsonValueKind.Object)
        {
            throw new ModelConfigException("config.json: dynamic_batching must be a JSON object");
        }

        foreach (var property in batching.EnumerateObject())
        {
            if (Array.IndexOf(Keys, property.Name) < 0)
            {
                throw new ModelConfigException(
                    $"config.json: unknown key 'dynamic_batching.{property.Name}'; expected {string.Join(", ", Keys)}");
            }
        }

        var preferred = ReadPreferred(batching, maxBatchSize);
        var delay = batching.TryGetProperty("max_queue_delay_microseconds", out var delayValue)
            ? TimeSpan.FromMicroseconds(Microseconds(delayValue, "dynamic_batching.max_queue_delay_microseconds"))
            : TimeSpan.Zero;
        if (batching.TryGetProperty("preserve_ordering", out var ordering) && ordering.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
        {
            throw new ModelConfigException("config.json: dynamic_batching.preserve_ordering must be true or false");
        }

        var levels = batching.TryGetProperty("priority_levels", out var levelsValue) ? (int)Integer(levelsValue, "dynamic_batching.priority_levels", 0, 1000) : 0;
        levels = Math.Max(levels, 1);
        var defaultLevel = batching.TryGetProperty("default_priority_level", out var defaultValue)
            ? (int)Integer(defaultValue, "dynamic_batching.default_priority_level", 0, levels)
            : 0;
        if (defaultLevel == 0)
        {
            // Triton requires the default level once there are several; with one, everything is level 1.
            defaultLevel = levels == 1
                ? 1
                : throw new ModelConfigException($"config.json: dynamic_batching.default_priority_level must be from 1 to {levels} when priority_levels is set");
        }

        var defaultPolicy = batching.TryGetProperty("default_queue_policy", out var policyValue)
            ? ReadQueuePolicy(policyValue, "dynamic_batching.default_queue_policy")
            : QueuePolicy.Unbounded;
        var policies = Enumerable.Repeat(defaultPolicy, levels).ToArray();
        if (batching.TryGetProperty("priority_queue_policy", out var perLevel))
        {
            ReadPerLevelPolicies(perLevel, policies);
        }

        return new BatchingPolicy(maxBatchSize, preferred, delay, levels, defaultLevel, policies);
    }

    private static int[] ReadPreferred(JsonElement batching, int maxBatchSize)
    {
        if (!batching.TryGetProperty("preferred_batch_size", out var value))
        {
            return [];
        }

        if (value.ValueKind != JsonValueKind.Array)
        {
            throw new ModelConfigException("config.json: dynamic_batching.preferred_batch_size must be an array of batch sizes");
        }

        var max = Math.Max(maxBatchSize, 1);
        var sizes = value.EnumerateArray()
            .Select((size, i) => (int)Integer(size, $"dynamic_batching.preferred_batch_size[{i}]", 1, max))
            .Distinct()
            .Order()
            .ToArray();
        return sizes;
    }

    private static void ReadPerLevelPolicies(JsonElement perLevel, QueuePolicy[] policies)
    {
        if (perLevel.ValueKind != JsonValueKind.Object)
        {
            throw new ModelConfigException("config.json: dynamic_batching.priority_queue_policy must be an object of priority level -> queue policy");
        }

        foreach (var property in perLevel.EnumerateObject())
        {
            var key = $"dynamic_batching.priority_queue_policy.{property.Name}";
            if (!int.TryParse(property.Name, NumberStyles.None, CultureInfo.InvariantCulture, out var level) || level < 1 || level > policies.Length)
            {
                throw new ModelConfigException($"config.json: {key}: the key must be a priority level from 1 to {policies.Length} (priority_levels)");
            }

            policies[level - 1] = ReadQueuePolicy(property.Value, key);
        }
    }

    private static QueuePolicy ReadQueuePolicy(JsonElement value, string path)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            throw new ModelConfigException($"config.json: {path} must be a JSON object");
        }

        foreach (var property in value.EnumerateObject())
        {
            if (Array.IndexOf(QueuePolicyKeys, property.Name) < 0)
            {
                throw new ModelConfigException($"config.json: unknown key '{path}.{property.Name}'; expected {string.Join(", ", QueuePolicyKeys)}");
            }
        }

        var action = TimeoutAction.Reject;
        if (value.TryGetProperty("timeout_action", out var actionValue))
        {
            // The name as Triton's JSON writes it, or the enum's number.
            var name = actionValue.ValueKind == JsonValueKind.String ? actionValue.GetString() : actionValue.GetRawText();
            action = name switch
            {
                "REJECT" or "0" => TimeoutAction.Reject,
                "DELAY" or "1" => TimeoutAction.Delay,
                _ => throw new ModelConfigException($"config.json: {path}.timeout_action must be \"REJECT\" or \"DELAY\""),
            };
        }

        var timeout = value.TryGetProperty("default_timeout_microseconds", out var timeoutValue)
            ? Microseconds(timeoutValue, $"{path}.default_timeout_microseconds")
            : 0;
        var allowOverride = value.TryGetProperty("allow_timeout_override", out var overrideValue) && overrideValue.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw new ModelConfigException($"config.json: {path}.allow_timeout_override must be true or false"),
        };
        var size = value.TryGetProperty("max_queue_size", out var sizeValue) ? (int)Integer(sizeValue, $"{path}.max_queue_size", 0, int.MaxValue) : 0;
        return new QueuePolicy(size, TimeSpan.FromMicroseconds(timeout), action, allowOverride);
    }

    private static long Microseconds(JsonElement value, string key) => Integer(value, key, 0, MaxMicroseconds);

    // Triton's JSON form of a protobuf uint64 is a string ("100"); a number is accepted as well.
    private static long Integer(JsonElement value, string key, long min, long max)
    {
        var ok = value.ValueKind switch
        {
            JsonValueKind.Number => value.TryGetInt64(out var number) ? number : (long?)null,
            JsonValueKind.String => long.TryParse(value.GetString(), NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) ? parsed : null,
            _ => null,
        };
        return ok is { } result && result >= min && result <= max
            ? result
            : throw new ModelConfigException($"config.json: {key} must be an integer from {min} to {max}, not {value.GetRawText()}");
    }
}
