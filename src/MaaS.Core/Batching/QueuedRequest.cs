using MaaS.Core.Inference;

namespace MaaS.Core.Batching;

/// <summary>
/// A request waiting in a <see cref="BatchQueue"/>: its place in the queue, its timeout and cancellation hooks, and
/// the completion its caller awaits. The caller awaits the completion whatever happens to its own token, since a
/// worker may be reading the request's buffers; a request cancelled while still queued completes at once.
/// </summary>
internal sealed class QueuedRequest
{
    private readonly TaskCompletionSource<InferResult> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private CancellationTokenRegistration _registration;
    private readonly BatchQueue _queue;
    private ITimer? _timer;

    public QueuedRequest(BatchQueue queue, InferRequest request, long rows, int level, long enqueuedTimestamp, CancellationToken cancellationToken)
    {
        _queue = queue;
        Request = request;
        Rows = rows;
        Level = level;
        EnqueuedTimestamp = enqueuedTimestamp;
        CancellationToken = cancellationToken;
    }

    public InferRequest Request { get; }

    /// <summary>Rows of the batch dimension this request brings (1 for a model without one).</summary>
    public long Rows { get; }

    /// <summary>Its 1-based priority level.</summary>
    public int Level { get; }

    /// <summary>When it joined the queue, in the queue's <see cref="TimeProvider"/> timestamps.</summary>
    public long EnqueuedTimestamp { get; }

    public CancellationToken CancellationToken { get; }

    /// <summary>Its timeout expired with the DELAY action: it now waits behind its level's other requests.</summary>
    public bool Delayed { get; internal set; }

    /// <summary>How long it waited before a worker took it.</summary>
    public TimeSpan QueueTime { get; internal set; }

#pragma warning disable VSTHRD003 // the caller awaits the outcome of its own request, completed by a worker
    public Task<InferResult> Completion => _completion.Task;
#pragma warning restore VSTHRD003

    /// <summary>Its node while it waits in the queue; null once taken, cancelled or rejected (guarded by the queue's lock).</summary>
    internal LinkedListNode<QueuedRequest>? Node { get; set; }

    // The timer is set before the cancellation hook, whose callback may run at once (a token already cancelled) and
    // must find the timer to drop it.
    internal void SetTimer(ITimer timer) => _timer = timer;

    internal void SetRegistration(CancellationTokenRegistration registration) => _registration = registration;

    /// <summary>Drops the timeout and cancellation hooks; never called under the queue's lock (a hook may be waiting for it).</summary>
    internal void Disarm()
    {
        _registration.Dispose();
        _timer?.Dispose();
    }

    internal void Cancelled() => _queue.OnCancelled(this);

    internal void TimedOut() => _queue.OnTimedOut(this);

    public void Complete(InferResult result)
    {
        if (!_completion.TrySetResult(result))
        {
            result.Dispose();
        }
    }

    public void Fail(Exception exception) => _completion.TrySetException(exception);

    public void Cancel() => _completion.TrySetCanceled(CancellationToken);
}
