using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace MaaS.Server.Hosting;

/// <summary>
/// The server-wide bound on inference work (MaaS:Limits:MaxInFlight and MaxQueued): one concurrency limiter shared by
/// every route that runs a model, its counts for /metrics, and the rejections. Requests past both limits get 503 at
/// once instead of buffering their bodies until memory runs out.
/// </summary>
internal sealed partial class InferenceLimits : IDisposable
{
    /// <summary>Rejection reason: the server-wide queue (MaaS:Limits:MaxQueued) was full.</summary>
    public const string QueueFull = "max_queued";

    /// <summary>Rejection reason: no instance of the model became free in time (MaaS:Sessions:SessionWaitTimeoutSeconds).</summary>
    public const string SessionWaitTimeout = "session_wait_timeout";

    private readonly ConcurrencyLimiter _limiter;
    private long _rejectedQueueFull;
    private long _rejectedSessionWait;

    public InferenceLimits(IOptions<LimitsOptions> options, ILogger<InferenceLimits> logger)
        : this(options.Value, Environment.ProcessorCount, GC.GetGCMemoryInfo().TotalAvailableMemoryBytes)
    {
        Log.Limits(logger, MaxInFlight, MaxQueued, Processors, AvailableMemoryBytes, options.Value.MaxRequestBodyBytes);
    }

    internal InferenceLimits(LimitsOptions options, int processors, long availableMemoryBytes)
    {
        Processors = processors;
        AvailableMemoryBytes = availableMemoryBytes;
        var (inFlight, queued) = Defaults(processors, availableMemoryBytes, options.MaxRequestBodyBytes);
        MaxInFlight = options.MaxInFlight ?? inFlight;
        MaxQueued = options.MaxQueued ?? queued;
        RetryAfterSeconds = options.RetryAfterSeconds;
        _limiter = new ConcurrencyLimiter(new ConcurrencyLimiterOptions
        {
            PermitLimit = MaxInFlight,
            QueueLimit = MaxQueued,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
        });
    }

    /// <summary>The CPUs the defaults were derived from.</summary>
    public int Processors { get; }

    /// <summary>The memory the process may use (the GC's view: a container's limit, else the machine's), which the defaults were derived from.</summary>
    public long AvailableMemoryBytes { get; }

    public int MaxInFlight { get; }

    public int MaxQueued { get; }

    public int RetryAfterSeconds { get; }

    /// <summary>A slot at once if one is free and nobody queues for it; else a lease that is not acquired (dispose it either way).</summary>
    public RateLimitLease TryAcquire() => _limiter.AttemptAcquire();

    /// <summary>A slot, waiting in the bounded queue (oldest first); a lease that is not acquired when the queue is full.</summary>
    public ValueTask<RateLimitLease> AcquireAsync(CancellationToken cancellationToken) => _limiter.AcquireAsync(1, cancellationToken);

    /// <summary>Inference requests running now.</summary>
    public long InFlight => MaxInFlight - (_limiter.GetStatistics()?.CurrentAvailablePermits ?? MaxInFlight);

    /// <summary>Inference requests waiting for a slot now.</summary>
    public long Queued => _limiter.GetStatistics()?.CurrentQueuedCount ?? 0;

    /// <summary>Requests refused with 503 because the server was at a limit, by reason, since start.</summary>
    public IReadOnlyList<(string Reason, long Count)> Rejected =>
        [(QueueFull, Interlocked.Read(ref _rejectedQueueFull)), (SessionWaitTimeout, Interlocked.Read(ref _rejectedSessionWait))];

    /// <summary>
    /// The defaults. A request in flight holds its body and about as much again in decoded tensors, and half of the memory
    /// is for request data: at most <c>memory / 2 / (2 x body limit)</c> run at once. "In flight" includes waiting in a
    /// batch queue or for an instance, and dynamic batching forms batches only from requests in flight, so the CPUs cap
    /// it only loosely (64 per CPU). A queued request has not read its body (the limiter runs before the handler): it
    /// holds a connection and at most Kestrel's 1 MiB request buffer, so 4 times as many may queue, within a quarter of
    /// the memory at 1 MiB each.
    /// </summary>
    internal static (int MaxInFlight, int MaxQueued) Defaults(int processors, long availableMemoryBytes, long maxRequestBodyBytes)
    {
        var inFlight = (int)Math.Clamp(availableMemoryBytes / 2 / (2 * maxRequestBodyBytes), 1, 64L * Math.Max(processors, 1));
        var queued = (int)Math.Min(4L * inFlight, availableMemoryBytes / 4 / QueuedRequestBytes);
        return (inFlight, queued);
    }

    /// <summary>What a queued request may hold at most: Kestrel's default per-connection request buffer.</summary>
    internal const long QueuedRequestBytes = 1 << 20;

    /// <summary>A 503 with Retry-After and the error body, written here (no exception per rejection).</summary>
    public Task RejectAsync(HttpContext context) =>
        ErrorHandling.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, Reject(), RetryAfterSeconds);

    /// <summary>Counts a request refused because both limits were full and returns what it is told.</summary>
    public string Reject()
    {
        Interlocked.Increment(ref _rejectedQueueFull);
        return $"the server is at its limit of {MaxInFlight} inference requests in flight and {MaxQueued} queued "
            + "(MaaS:Limits:MaxInFlight, MaaS:Limits:MaxQueued); retry later";
    }

    /// <summary>Counts a request that got 503 because every instance of its model stayed busy too long.</summary>
    public void CountSessionWaitTimeout() => Interlocked.Increment(ref _rejectedSessionWait);

    public void Dispose() => _limiter.Dispose();

    private static partial class Log
    {
        [LoggerMessage(EventId = 2030, Level = LogLevel.Information,
            Message = "Inference limits: {MaxInFlight} requests in flight, {MaxQueued} queued (from {Processors} CPUs, {AvailableMemoryBytes} B of memory, {MaxBodyBytes} B body limit, unless set)")]
        public static partial void Limits(ILogger logger, int maxInFlight, int maxQueued, int processors, long availableMemoryBytes, long maxBodyBytes);
    }
}
