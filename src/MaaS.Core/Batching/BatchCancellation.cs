namespace MaaS.Core.Batching;

/// <summary>A token for a batch's run that fires once every request in the batch has been cancelled: a run stops only when nobody wants it.</summary>
internal sealed class BatchCancellation : IDisposable
{
    private readonly CancellationTokenSource _source = new();
    private readonly CancellationTokenRegistration[] _registrations;
    private int _remaining;

    public BatchCancellation(IReadOnlyList<QueuedRequest> batch)
    {
        _remaining = batch.Count;
        _registrations = new CancellationTokenRegistration[batch.Count];
        for (var i = 0; i < batch.Count; i++)
        {
            _registrations[i] = batch[i].CancellationToken.UnsafeRegister(static state => ((BatchCancellation)state!).OneCancelled(), this);
        }
    }

    public CancellationToken Token => _source.Token;

    private void OneCancelled()
    {
        if (Interlocked.Decrement(ref _remaining) == 0)
        {
            _source.Cancel();
        }
    }

    public void Dispose()
    {
        foreach (var registration in _registrations)
        {
            registration.Dispose();
        }

        _source.Dispose();
    }
}
