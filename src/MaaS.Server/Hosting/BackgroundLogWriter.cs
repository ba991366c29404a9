using System.Collections.Concurrent;
using Serilog.Core;
using Serilog.Debugging;
using Serilog.Events;

namespace MaaS.Server.Hosting;

/// <summary>
/// The log buffer in front of stdout: a request only queues its event; one background thread writes what queued every
/// <see cref="DrainInterval"/> (sooner once the buffer is half full) and flushes the output once per pass. Bounded:
/// past <c>capacity</c> new events are dropped and counted (<c>maas_log_events_dropped_total</c>).
/// </summary>
/// <remarks>
/// In place of Serilog.Sinks.Async, which wakes its writing thread for every event while it waits: at ~30k request
/// lines per second (the tiny model on 2 cores) that wake-up and a flush of stdout per line cost a fifth of the server's
/// throughput, measured with the request log on against off (docs/performance.md, "Request logging off the request
/// thread"). Here no producer signals unless the buffer is half full, and a pass writes its events in one flush.
/// </remarks>
internal sealed class BackgroundLogWriter : ILogEventSink, IDisposable
{
    /// <summary>The longest an event waits in the buffer while the server is not stopping.</summary>
    public static readonly TimeSpan DrainInterval = TimeSpan.FromMilliseconds(20);

    private readonly ConcurrentQueue<LogEvent> _queue = new();
    private readonly ILogEventSink[] _targets;
    private readonly Action _flush;
    private readonly int _capacity;
    private readonly object _wake = new();   // pulsed to end a wait early; a pulse nobody waits for is simply lost
    private readonly Thread _thread;
    private int _count;
    private int _emitting;   // producers between their check of _stopping and their enqueue
    private long _dropped;
    private int _stopping;   // 0 or 1; written with a full fence, see Dispose
    private int _closed;     // 0 or 1: set once no producer can still queue; the thread's last pass comes after it

    /// <param name="targets">Written in order from the background thread; disposed with this writer when disposable.</param>
    /// <param name="flush">Runs after each pass that wrote something (flushes a buffered stdout).</param>
    /// <param name="capacity">Events that may wait at once.</param>
    public BackgroundLogWriter(IReadOnlyList<ILogEventSink> targets, Action flush, int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _targets = [.. targets];
        _flush = flush;
        _capacity = capacity;
        _thread = new Thread(Run) { IsBackground = true, Name = "MaaS log writer" };
        _thread.Start();
    }

    /// <summary>Events dropped since start because the buffer was full.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Events waiting to be written now.</summary>
    public int Queued => Volatile.Read(ref _count);

    public void Emit(LogEvent logEvent)
    {
        // Announced before the check of _stopping (both sides fence), so Dispose either is seen here or waits until
        // this event is queued: an event that passed the check is always in the queue before the last drain.
        Interlocked.Increment(ref _emitting);
        try
        {
            if (Volatile.Read(ref _stopping) != 0)
            {
                // Logged after the writer stopped (a late line of a stopping host): nobody will write it.
                Interlocked.Increment(ref _dropped);
                return;
            }

            var count = Interlocked.Increment(ref _count);
            if (count > _capacity)
            {
                Interlocked.Decrement(ref _count);
                Interlocked.Increment(ref _dropped);
                return;
            }

            _queue.Enqueue(logEvent);
            if (count == _capacity / 2 + 1)
            {
                Wake();
            }
        }
        finally
        {
            Interlocked.Decrement(ref _emitting);
        }
    }

    private void Run()
    {
        // Not _stopping: a producer that passed its check before the flag was set may still be queueing its event, and the
        // last pass must come after it (Dispose sets _closed once none is left).
        while (Volatile.Read(ref _closed) == 0)
        {
            lock (_wake)
            {
                Monitor.Wait(_wake, DrainInterval);
            }

            Drain();
        }

        Drain();
    }

    private void Drain()
    {
        var wrote = false;
        while (_queue.TryDequeue(out var logEvent))
        {
            Interlocked.Decrement(ref _count);
            wrote = true;
            foreach (var target in _targets)
            {
                try
                {
                    target.Emit(logEvent);
                }
#pragma warning disable CA1031 // reported to Serilog's SelfLog, the channel for a failing sink
                catch (Exception ex)
#pragma warning restore CA1031
                {
                    Failed(ex);
                }
            }
        }

        if (wrote)
        {
            try
            {
                _flush();
            }
#pragma warning disable CA1031 // as above
            catch (Exception ex)
#pragma warning restore CA1031
            {
                Failed(ex);
            }
        }
    }

    // A sink that fails (a closed stdout) must not end the process or stop the other sinks: Serilog's own rule for
    // sinks, reported through its SelfLog as Serilog.Sinks.Async does.
    private static void Failed(Exception ex) => SelfLog.WriteLine("the log writer's sink failed: {0}", ex);

    /// <summary>Writes what is still queued (the last lines of a stopping server), then disposes the targets.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _stopping, 1) != 0)
        {
            return;
        }

        // Producers that passed their check before the flag was set finish queueing first (a few instructions each).
        var wait = default(SpinWait);
        while (Volatile.Read(ref _emitting) != 0)
        {
            wait.SpinOnce();
        }

        Volatile.Write(ref _closed, 1);
        Wake();
        _thread.Join();
        foreach (var target in _targets.OfType<IDisposable>())
        {
            target.Dispose();
        }
    }

    private void Wake()
    {
        lock (_wake)
        {
            Monitor.PulseAll(_wake);
        }
    }
}
