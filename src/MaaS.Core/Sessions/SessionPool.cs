using System.Threading.Channels;
using Microsoft.ML.OnnxRuntime;

namespace MaaS.Core.Sessions;

/// <summary>
/// The instances of one model version (Triton's instance_group count): each runs one request at a time, so the count
/// bounds concurrency and lets CPU threads be split between instances. Callers wait in arrival order (a channel's
/// readers are served first come, first served) and stop waiting when their request is cancelled.
/// </summary>
internal sealed class SessionPool : IDisposable
{
    private readonly InferenceSession[] _sessions;
    private readonly Channel<InferenceSession> _idle;

    public SessionPool(IReadOnlyList<InferenceSession> sessions)
    {
        ArgumentOutOfRangeException.ThrowIfZero(sessions.Count);
        _sessions = [.. sessions];
        _idle = Channel.CreateBounded<InferenceSession>(new BoundedChannelOptions(_sessions.Length) { SingleReader = false, SingleWriter = false });
        foreach (var session in _sessions)
        {
            _idle.Writer.TryWrite(session);
        }
    }

    private int _waiting;

    public int Count => _sessions.Length;

    /// <summary>Requests waiting for an instance right now.</summary>
    public int Waiting => Volatile.Read(ref _waiting);

    /// <summary>Every instance, for work that must reach each one (warmup) before the pool serves requests.</summary>
    public IReadOnlyList<InferenceSession> Sessions => _sessions;

    /// <summary>Instances idle right now.</summary>
    public int Idle => _idle.Reader.Count;

    /// <summary>Takes an idle instance, waiting in line for one when all are busy.</summary>
    public async ValueTask<SessionLease> LeaseAsync(CancellationToken cancellationToken)
    {
#pragma warning disable CA2000 // the pool owns its sessions; a lease only borrows one
        if (_idle.Reader.TryRead(out var session))
        {
            return new SessionLease(this, session);
        }

        Interlocked.Increment(ref _waiting);
        try
        {
            return new SessionLease(this, await _idle.Reader.ReadAsync(cancellationToken));
        }
        finally
        {
            Interlocked.Decrement(ref _waiting);
        }
#pragma warning restore CA2000
    }

    internal void Return(InferenceSession session) => _idle.Writer.TryWrite(session);

    /// <summary>Disposes every instance; only once no lease is out (the version's own lease count guarantees it).</summary>
    public void Dispose()
    {
        _idle.Writer.TryComplete();
        foreach (var session in _sessions)
        {
            session.Dispose();
        }
    }
}

/// <summary>A request's hold on one instance; disposing it hands the instance to the next caller in line.</summary>
internal readonly struct SessionLease(SessionPool pool, InferenceSession session) : IDisposable
{
    public InferenceSession Session { get; } = session;

    public void Dispose() => pool.Return(Session);
}
