using MaaS.Core.Config;
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

    /// <summary>The policy of a level whose config sets nothing: bounded by <see cref="BatchingPolicy.DefaultMaxQueueSize"/>, no timeout.</summary>
    public static readonly QueuePolicy Default = new(BatchingPolicy.DefaultMaxQueueSize, TimeSpan.Zero, TimeoutAction.Reject, false);

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
    /// <summary>
    /// Requests one priority level queues when its policy sets no <c>max_queue_size</c> (Triton: unbounded). A count,
    /// because that is what the config can bound: the queue holds at most this many request bodies per level, each
    /// within <c>MaaS:Limits:MaxRequestBodyBytes</c>; a deeper queue only adds waiting time a client will not wait.
    /// </summary>
    public const int DefaultMaxQueueSize = 1024;

    /// <summary>Longest delay or timeout in microseconds: an hour; anything longer is a typo, not a policy.</summary>
    public const long MaxMicroseconds = 3_600_000_000;

    /// <summary>Most priority levels.</summary>
    public const int MaxPriorityLevels = 1000;

    /// <summary>Rows one run takes at most: the model's max_batch_size, or 1 for a model without a batch dimension.</summary>
    public int MaxRows => Math.Max(MaxBatchSize, 1);

    /// <summary>The queue policy of a 1-based priority level.</summary>
    public QueuePolicy PolicyOf(int level) => QueuePolicies[level - 1];

    /// <summary>The 1-based level a request asking for <paramref name="priority"/> runs at: as Triton, 0 or a level the model lacks means the default.</summary>
    public int LevelOf(long priority) => priority >= 1 && priority <= PriorityLevels ? (int)priority : DefaultPriorityLevel;

    /// <summary>
    /// The policy of <paramref name="config"/> (already checked by <see cref="ModelConfigReader"/>), or null when it
    /// has no <c>dynamic_batching</c>. <paramref name="maxBatchSize"/> is the version's; when the config left it to the
    /// ONNX file, the preferred sizes are checked against it here.
    /// </summary>
    public static BatchingPolicy? From(ModelConfig? config, int maxBatchSize)
    {
        if (config?.DynamicBatching is not { } batching)
        {
            return null;
        }

        var maxRows = Math.Max(maxBatchSize, 1);
        var preferred = (batching.PreferredBatchSize ?? []).Select(size => (int)size).Distinct().Order().ToArray();
        if (preferred.Length > 0 && preferred[^1] > maxRows)
        {
            var index = Array.IndexOf(batching.PreferredBatchSize!, (long)preferred[^1]);
            throw new ModelConfigException(
                $"config.json: dynamic_batching.preferred_batch_size[{index}] must be an integer from 1 to {maxRows} (max_batch_size), not {preferred[^1]}");
        }

        var levels = (int)Math.Max(batching.PriorityLevels ?? 0, 1);
        var defaultLevel = (int)(batching.DefaultPriorityLevel is null or 0 ? 1 : batching.DefaultPriorityLevel.Value);
        var policies = Enumerable.Repeat(Map(batching.DefaultQueuePolicy), levels).ToArray();
        foreach (var (level, policy) in batching.PriorityQueuePolicy ?? [])
        {
            policies[int.Parse(level, System.Globalization.CultureInfo.InvariantCulture) - 1] = Map(policy);
        }

        var delay = TimeSpan.FromMicroseconds(batching.MaxQueueDelayMicroseconds ?? 0);
        return new BatchingPolicy(maxBatchSize, preferred, delay, levels, defaultLevel, policies);
    }

    private static QueuePolicy Map(QueuePolicyConfig? policy) => policy is null
        ? QueuePolicy.Default
        : new QueuePolicy(
            (int)(policy.MaxQueueSize ?? DefaultMaxQueueSize),
            TimeSpan.FromMicroseconds(policy.DefaultTimeoutMicroseconds ?? 0),
            policy.TimeoutAction ?? TimeoutAction.Reject,
            policy.AllowTimeoutOverride ?? false);
}
