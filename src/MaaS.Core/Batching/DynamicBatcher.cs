namespace MaaS.Core.Batching;

/// <summary>
/// The workers of one model version's batch queue: one per instance, each taking the next batch as soon as its
/// instance is free (so batches grow while every instance is busy) and running it. A batch whose run throws fails
/// only its own requests, with that error; the worker carries on. After <see cref="Complete"/> the workers finish
/// what is queued, then stop.
/// </summary>
internal sealed class DynamicBatcher
{
    private readonly BatchQueue _queue;
    private readonly Action<int, IReadOnlyList<QueuedRequest>> _execute;
    private readonly TaskCompletionSource[] _stopped;

    /// <param name="queue">The version's queue, whose requests the workers run.</param>
    /// <param name="workers">One per instance.</param>
    /// <param name="name">Names the worker threads (model and version), for debuggers and dumps.</param>
    /// <param name="execute">Runs a batch on instance <c>workerIndex</c> and completes every request of it.</param>
    public DynamicBatcher(BatchQueue queue, int workers, string name, Action<int, IReadOnlyList<QueuedRequest>> execute)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(workers, 1);
        _queue = queue;
        _execute = execute;
        _stopped = new TaskCompletionSource[workers];
        for (var i = 0; i < workers; i++)
        {
            _stopped[i] = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

            // One thread per instance, as Triton's scheduler has: a run blocks its thread for milliseconds, which would
            // starve the thread pool that serves HTTP, and a worker must wake the moment a batch is due.
            var index = i;
            new Thread(() => Work(index)) { IsBackground = true, Name = $"batch {name} #{i}" }.Start();
        }
    }

    public BatchQueue Queue => _queue;

    /// <summary>Completes when every worker has stopped (after <see cref="Complete"/> and an empty queue).</summary>
    public Task Completion => Task.WhenAll(_stopped.Select(stopped => stopped.Task));

    /// <summary>Takes no new requests; those already queued still run.</summary>
    public void Complete() => _queue.Complete();

    private void Work(int index)
    {
        var batch = new List<QueuedRequest>(_queue.Policy.MaxRows);
        while (_queue.TakeBatch(batch))
        {
            try
            {
                _execute(index, batch);
            }
#pragma warning disable CA1031 // the worker's boundary: whatever a run throws goes to the requests of that batch, which rethrow it to their callers
            catch (Exception ex)
#pragma warning restore CA1031
            {
                foreach (var entry in batch)
                {
                    entry.Fail(ex);
                }
            }
        }

        _stopped[index].SetResult();
    }
}
