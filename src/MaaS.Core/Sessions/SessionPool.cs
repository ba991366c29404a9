using System.Globalization;
using System.Threading.Channels;
using Microsoft.ML.OnnxRuntime;

namespace MaaS.Core.Sessions;

/// <summary>
/// The instances of one model version (Triton's instance_group count): each runs one request at a time, so the count
/// bounds concurrency and lets CPU threads be split between instances. Callers wait in arrival order (a channel's
/// readers are served first come, first served), for at most the wait timeout, and stop waiting when their request is
/// cancelled. A pool may also hold a lone-request session (<see cref="AttachLoneSession"/>): one session using every
/// CPU, which takes a request that finds every instance idle and nobody waiting, so that a request running alone is
/// not held to one instance's share of the CPUs.
/// </summary>
internal sealed class SessionPool : IDisposable
{
    private readonly InferenceSession[] _sessions;
    private readonly Channel<InferenceSession> _idle;
    private readonly TimeProvider _time;
    private readonly TimeSpan _waitTimeout;
    private InferenceSession? _lone;
    private int _loneBusy;   // 0 or 1
    private bool _released;
    private int _waiting;

    /// <param name="sessions">The instances; the pool owns them from here on.</param>
    /// <param name="time">The clock the wait timeout runs on.</param>
    /// <param name="waitTimeout">The longest a caller waits for an instance before a 503 (MaaS:Sessions:SessionWaitTimeoutSeconds).</param>
    public SessionPool(IReadOnlyList<InferenceSession> sessions, TimeProvider time, TimeSpan waitTimeout)
    {
        ArgumentOutOfRangeException.ThrowIfZero(sessions.Count);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(waitTimeout, TimeSpan.Zero);
        _sessions = [.. sessions];
        _time = time;
        _waitTimeout = waitTimeout;
        _idle = Channel.CreateBounded<InferenceSession>(new BoundedChannelOptions(_sessions.Length) { SingleReader = false, SingleWriter = false });
        foreach (var session in _sessions)
        {
            _idle.Writer.TryWrite(session);
        }
    }

    public int Count => _sessions.Length;

    /// <summary>Requests waiting for an instance right now.</summary>
    public int Waiting => Volatile.Read(ref _waiting);

    /// <summary>Every instance, for work that must reach each one (warmup) before the pool serves requests.</summary>
    public IReadOnlyList<InferenceSession> Sessions => _sessions;

    /// <summary>Instances idle right now.</summary>
    public int Idle => _idle.Reader.Count;

    /// <summary>
    /// Takes an idle instance, waiting in line for one when all are busy: for at most the pool's wait timeout, or
    /// <paramref name="requestTimeoutMicroseconds"/> (the request's <c>timeout</c> parameter; 0 = none) when that is
    /// shorter: as Triton treats it, a request's timeout may only shorten the server's. Past it, a <see cref="ServingException"/> of kind
    /// <see cref="FailureKind.NotReady"/> (503) whose inner exception is a <see cref="SessionWaitTimeoutException"/>.
    /// </summary>
    public async ValueTask<SessionLease> LeaseAsync(long requestTimeoutMicroseconds, CancellationToken cancellationToken)
    {
#pragma warning disable CA2000 // the pool owns its sessions; a lease only borrows one
        // Alone: every instance idle and nobody in line. A request that arrives while it runs takes an instance as usual
        // (the CPUs are shared for that while), and the lone session waits until the pool is idle again. The cheap check of
        // the waiters comes first: a bounded channel's Count takes its lock.
        if (_lone is { } lone && Volatile.Read(ref _waiting) == 0 && _idle.Reader.Count == _sessions.Length
            && Interlocked.CompareExchange(ref _loneBusy, 1, 0) == 0)
        {
            return new SessionLease(this, lone);
        }

        if (_idle.Reader.TryRead(out var session))
        {
            return new SessionLease(this, session);
        }

        var timeout = requestTimeoutMicroseconds > 0 && requestTimeoutMicroseconds < _waitTimeout.TotalMicroseconds
            ? TimeSpan.FromMicroseconds(requestTimeoutMicroseconds)
            : _waitTimeout;
        using var deadline = new CancellationTokenSource(timeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        Interlocked.Increment(ref _waiting);
        try
        {
            return new SessionLease(this, await _idle.Reader.ReadAsync(linked.Token));
        }
        catch (OperationCanceledException ex) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            // Our deadline, not the client's: the model is busier than its instances can serve in time.
            throw new ServingException(
                FailureKind.NotReady,
                $"all {_sessions.Length} instances of the model stayed busy for {timeout.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)} s "
                + "(MaaS:Sessions:SessionWaitTimeoutSeconds or the request's timeout); the server is overloaded, retry later",
                new SessionWaitTimeoutException("waiting for a model instance timed out", ex));
        }
        finally
        {
            Interlocked.Decrement(ref _waiting);
        }
#pragma warning restore CA2000
    }

    /// <summary>The session used every CPU for a request that runs alone (null when the pool has none).</summary>
    public InferenceSession? LoneSession => _lone;

    /// <summary>
    /// Adds the session that runs a request finding the pool idle; the pool owns it from here on. Only before the pool
    /// serves requests.
    /// </summary>
    internal void AttachLoneSession(InferenceSession session)
    {
        if (_lone is not null)
        {
            throw new InvalidOperationException("the pool has a lone-request session already");
        }

        _lone = session;
    }

    /// <summary>Hands the only session of a one-session pool to its caller, who owns it from here on; the pool serves no more.</summary>
    internal InferenceSession ReleaseOnlySession()
    {
        if (_sessions.Length != 1 || _lone is not null || _released)
        {
            throw new InvalidOperationException("only an unused one-session pool can give its session away");
        }

        _released = true;
        _idle.Writer.TryComplete();
        return _sessions[0];
    }

    internal void Return(InferenceSession session)
    {
        if (ReferenceEquals(session, _lone))
        {
            Volatile.Write(ref _loneBusy, 0);
            return;
        }

        _idle.Writer.TryWrite(session);
    }

    /// <summary>Disposes every instance; only once no lease is out (the version's own lease count guarantees it).</summary>
    public void Dispose()
    {
        _idle.Writer.TryComplete();
        if (!_released)
        {
            foreach (var session in _sessions)
            {
                session.Dispose();
            }
        }

        _lone?.Dispose();
    }
}

/// <summary>A request's hold on one instance; disposing it hands the instance to the next caller in line.</summary>
internal readonly struct SessionLease(SessionPool pool, InferenceSession session) : IDisposable
{
    public InferenceSession Session { get; } = session;

    public void Dispose() => pool.Return(Session);
}
