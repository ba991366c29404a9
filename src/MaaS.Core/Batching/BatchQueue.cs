using MaaS.Core.Inference;
using MaaS.Core.Tensors;

namespace MaaS.Core.Batching;

/// <summary>
/// The requests of one model version waiting for a worker, and the rules that form them into batches (Triton's
/// dynamic batcher): highest priority level first, oldest first within a level, requests whose timeout expired with
/// DELAY behind the rest of their level. A batch takes requests that agree on every input's datatype and non-batch
/// dims, up to <see cref="BatchingPolicy.MaxRows"/> rows; it leaves at once when full or at a preferred size, else
/// when its oldest request has waited <see cref="BatchingPolicy.MaxQueueDelay"/>.
/// </summary>
/// <remarks>
/// A lock-guarded set of lists rather than a channel: requests leave from the middle (cancelled, timed out, or picked
/// past one whose shape cannot join), and priority levels need one list each.
/// </remarks>
internal sealed class BatchQueue
{
    // Bounds the time the lock is held when many queued requests cannot join the batch being formed.
    private const int MaxScanned = 1024;

    private readonly TimeProvider _time;
    private readonly object _gate = new();
    private readonly LinkedList<QueuedRequest>[] _waiting;
    private readonly LinkedList<QueuedRequest>[] _delayed;
    private bool _completed;
    private int _count;

    // Workers in Monitor.Wait on the gate (under the lock). An arrival wakes one of them, not all: the others would
    // wake only to find the request taken. A worker that takes a batch and leaves requests behind wakes the next.
    private int _waiters;

    public BatchQueue(BatchingPolicy policy, TimeProvider time)
    {
        Policy = policy;
        _time = time;
        _waiting = new LinkedList<QueuedRequest>[policy.PriorityLevels];
        _delayed = new LinkedList<QueuedRequest>[policy.PriorityLevels];
        for (var i = 0; i < policy.PriorityLevels; i++)
        {
            _waiting[i] = new LinkedList<QueuedRequest>();
            _delayed[i] = new LinkedList<QueuedRequest>();
        }
    }

    public BatchingPolicy Policy { get; }

    /// <summary>Requests waiting right now.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>
    /// Queues a validated request. Throws a 503 <see cref="ServingException"/> at once when its level's queue is full
    /// or the queue no longer takes requests; <paramref name="cancellationToken"/> takes it out while it waits.
    /// </summary>
    public QueuedRequest Enqueue(InferRequest request, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var level = Policy.LevelOf(request.Priority);
        var policy = Policy.PolicyOf(level);
        var entry = new QueuedRequest(this, request, request.BatchRows(Policy.MaxBatchSize), level, _time.GetTimestamp(), cancellationToken);
        var timeout = policy.TimeoutFor(request.TimeoutMicroseconds);
        lock (_gate)
        {
            if (_completed)
            {
                throw new ServingException(FailureKind.NotReady, "the model version is being unloaded and takes no new requests; retry");
            }

            if (policy.MaxQueueSize > 0 && _waiting[level - 1].Count + _delayed[level - 1].Count >= policy.MaxQueueSize)
            {
                throw new ServingException(
                    FailureKind.NotReady,
                    $"Exceeds maximum queue size: {policy.MaxQueueSize} requests already wait at priority level {level} (dynamic_batching max_queue_size); retry later");
            }

            entry.Node = _waiting[level - 1].AddLast(entry);
            _count++;
            if (timeout > TimeSpan.Zero)
            {
                entry.SetTimer(_time.CreateTimer(static state => ((QueuedRequest)state!).TimedOut(), entry, timeout, Timeout.InfiniteTimeSpan));
            }

            // A token cancelled meanwhile runs the callback here, on this thread; the lock is re-entrant.
            entry.SetRegistration(cancellationToken.UnsafeRegister(static state => ((QueuedRequest)state!).Cancelled(), entry));
            if (_waiters > 0)
            {
                Monitor.Pulse(_gate);
            }
        }

        return entry;
    }

    /// <summary>
    /// Blocks the calling worker thread until the next batch is due and moves it into <paramref name="batch"/>
    /// (emptied first); false once the queue is completed and every request it held has been handed out.
    /// </summary>
    public bool TakeBatch(List<QueuedRequest> batch)
    {
        lock (_gate)
        {
            while (!TryTakeBatch(batch, out var wait))
            {
                if (_completed && _count == 0)
                {
                    return false;
                }

                if (wait == Timeout.InfiniteTimeSpan)
                {
                    WaitForSignal();
                    continue;
                }

                // The queue's clock, not the monitor's timeout, decides when the oldest request has waited long enough.
                using var timer = _time.CreateTimer(static state => ((BatchQueue)state!).Wake(), this, wait, Timeout.InfiniteTimeSpan);
                WaitForSignal();
            }

            // Requests left behind (another shape, past the batch's rows, a lower level now first) may make a batch
            // that is due, or due sooner than the other waiting workers' timers: hand the wake-up on to one of them.
            if (_count > 0 && _waiters > 0)
            {
                Monitor.Pulse(_gate);
            }
        }

        foreach (var entry in batch)
        {
            entry.Disarm();
        }

        return true;
    }

    /// <summary>
    /// Moves the batch that is due now into <paramref name="batch"/>; when none is, leaves it empty and says how long
    /// until one may be (<see cref="Timeout.InfiniteTimeSpan"/>: until a request arrives). The caller disarms the
    /// requests taken, outside the lock.
    /// </summary>
    internal bool TryTakeBatch(List<QueuedRequest> batch, out TimeSpan wait)
    {
        batch.Clear();
        lock (_gate)
        {
            wait = TryForm(batch);
            return batch.Count > 0;
        }
    }

    /// <summary>Takes no more requests; the workers still get every request already queued (shutdown drains).</summary>
    public void Complete()
    {
        lock (_gate)
        {
            _completed = true;
            Monitor.PulseAll(_gate);
        }
    }

    // Under the lock.
    private void WaitForSignal()
    {
        _waiters++;
        try
        {
            Monitor.Wait(_gate);
        }
        finally
        {
            _waiters--;
        }
    }

    private void Wake()
    {
        lock (_gate)
        {
            Monitor.PulseAll(_gate);
        }
    }

    // Under the lock. Fills the batch when one should leave now; else leaves it empty and says how long to wait
    // (infinite: until a request arrives).
    private TimeSpan TryForm(List<QueuedRequest> batch)
    {
        var max = Policy.MaxRows;
        long rows = 0;
        var preferredCount = 0;
        var scanned = 0;
        foreach (var entry in InOrder())
        {
            if (++scanned > MaxScanned || rows == max)
            {
                break;
            }

            if (batch.Count > 0 && (rows + entry.Rows > max || !CanJoin(batch[0].Request, entry.Request)))
            {
                continue;
            }

            batch.Add(entry);
            rows += entry.Rows;
            if (Policy.PreferredBatchSizes.Contains((int)rows))
            {
                preferredCount = batch.Count;
            }
        }

        if (batch.Count == 0)
        {
            return Timeout.InfiniteTimeSpan;
        }

        if (rows < max && preferredCount > 0)
        {
            // The largest preferred size this queue can form leaves now; the rest waits for the next batch.
            batch.RemoveRange(preferredCount, batch.Count - preferredCount);
        }
        else if (rows < max && !_completed)
        {
            var waited = _time.GetElapsedTime(batch[0].EnqueuedTimestamp);
            if (waited < Policy.MaxQueueDelay)
            {
                batch.Clear();
                return Policy.MaxQueueDelay - waited;
            }
        }

        var now = _time.GetTimestamp();
        foreach (var entry in batch)
        {
            Remove(entry);
            entry.QueueTime = _time.GetElapsedTime(entry.EnqueuedTimestamp, now);
        }

        return TimeSpan.Zero;
    }

    private IEnumerable<QueuedRequest> InOrder()
    {
        for (var level = 0; level < _waiting.Length; level++)
        {
            foreach (var entry in _waiting[level])
            {
                yield return entry;
            }

            foreach (var entry in _delayed[level])
            {
                yield return entry;
            }
        }
    }

    /// <summary>
    /// Whether <paramref name="candidate"/> can run in one tensor with <paramref name="first"/>: the same inputs,
    /// datatypes and non-batch dims; for two requests of token sequences (<see cref="InferRequest.PadsSequences"/>),
    /// the second dim (the length) may differ too.
    /// </summary>
    internal static bool CanJoin(InferRequest first, InferRequest candidate)
    {
        if (first.Inputs.Count != candidate.Inputs.Count)
        {
            return false;
        }

        var padded = first.PadsSequences && candidate.PadsSequences;
        for (var i = 0; i < first.Inputs.Count; i++)
        {
            var input = first.Inputs[i];
            var other = candidate.FindInput(input.Name, i);
            if (other is null || other.DataType != input.DataType || !SameRowShape(input, other, padded))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The dims after the batch dim agree (after the length too, for sequences that may be padded).</summary>
    internal static bool SameRowShape(InferInput input, InferInput other, bool padded) =>
        padded && input.Shape.Length >= 2 && input.DataType.ElementSize() > 0
            ? other.Shape.Length == input.Shape.Length && input.Shape.AsSpan(2).SequenceEqual(other.Shape.AsSpan(2))
            : input.Shape.AsSpan(1).SequenceEqual(other.Shape.AsSpan(1));

    private void Remove(QueuedRequest entry)
    {
        entry.Node!.List!.Remove(entry.Node);
        entry.Node = null;
        _count--;
    }

    // Cancellation callback: a request still waiting leaves the queue and its caller gets the cancellation.
    internal void OnCancelled(QueuedRequest entry)
    {
        lock (_gate)
        {
            if (entry.Node is null)
            {
                return;
            }

            Remove(entry);
        }

        entry.Disarm();
        entry.Cancel();
    }

    // Timer callback: REJECT answers 503 now; DELAY moves the request behind its level's requests that have not timed out.
    internal void OnTimedOut(QueuedRequest entry)
    {
        var policy = Policy.PolicyOf(entry.Level);
        lock (_gate)
        {
            if (entry.Node is null)
            {
                return;
            }

            if (policy.TimeoutAction == TimeoutAction.Delay)
            {
                entry.Node.List!.Remove(entry.Node);
                entry.Node = _delayed[entry.Level - 1].AddLast(entry);
                entry.Delayed = true;
                return;
            }

            Remove(entry);
        }

        entry.Disarm();
        entry.Fail(new ServingException(
            FailureKind.NotReady,
            $"Request timeout expired: the request waited {policy.TimeoutFor(entry.Request.TimeoutMicroseconds).TotalMicroseconds} µs in the batch queue without being scheduled (timeout_action REJECT); retry later"));
    }
}
