using System.Collections.Concurrent;
using System.Diagnostics;
using MaaS.Server.Hosting;
using Serilog.Core;
using Serilog.Events;
using Serilog.Parsing;

namespace MaaS.Server.Tests.Hosting;

/// <summary>The bounded log buffer in front of stdout: order, bounds, one flush per pass, draining at stop, failing sinks.</summary>
public sealed class BackgroundLogWriterTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
    private static readonly MessageTemplate Template = new MessageTemplateParser().Parse("event {N}");

    [Fact]
    public void Events_AreWrittenInOrder_WithOneFlushPerPassNotPerEvent()
    {
        var sink = new RecordingSink();
        var flushes = 0;
        using var writer = new BackgroundLogWriter([sink], () => Interlocked.Increment(ref flushes), capacity: 1000);

        for (var i = 0; i < 500; i++)
        {
            writer.Emit(Event(i));
        }

        WaitUntil(() => sink.Events.Count == 500);
        sink.Numbers().Should().Equal(Enumerable.Range(0, 500), "one thread writes them in the order they were queued");
        Volatile.Read(ref flushes).Should().BeInRange(1, 10, "500 events queued at once are written in a pass or a few, each flushed once");
        writer.Queued.Should().Be(0);
        writer.Dropped.Should().Be(0);
    }

    [Fact]
    public void FullBuffer_DropsNewEventsAndCountsThem_AndWritesTheRestOnceStdoutMovesAgain()
    {
        using var gate = new ManualResetEventSlim(false);
        var sink = new RecordingSink(gate);
        using var writer = new BackgroundLogWriter([sink], () => { }, capacity: 10);

        writer.Emit(Event(0));
        WaitUntil(() => sink.Entered == 1);   // the writer holds event 0, stalled as on a blocked stdout
        for (var i = 1; i <= 15; i++)
        {
            writer.Emit(Event(i));
        }

        writer.Queued.Should().Be(10, "the buffer holds its capacity");
        writer.Dropped.Should().Be(5, "15 events met 10 free places");

        gate.Set();
        WaitUntil(() => sink.Events.Count == 11);
        sink.Numbers().Should().Equal(Enumerable.Range(0, 11), "the queued events are kept, the newest ones dropped");
        writer.Dropped.Should().Be(5);
    }

    [Fact]
    public void Dispose_WritesWhatIsStillQueued_AndDisposesTheTargets()
    {
        var sink = new RecordingSink();
        var flushes = 0;
        var writer = new BackgroundLogWriter([sink], () => flushes++, capacity: 1000);
        for (var i = 0; i < 300; i++)
        {
            writer.Emit(Event(i));
        }

        writer.Dispose();

        sink.Numbers().Should().Equal(Enumerable.Range(0, 300), "a stopping server's last lines reach stdout");
        flushes.Should().BeGreaterThan(0);
        sink.Disposed.Should().BeTrue();
        writer.Invoking(w => w.Dispose()).Should().NotThrow("disposing twice is harmless");
    }

    [Fact]
    public void EventsAfterDispose_AreDroppedAndCounted_NotQueuedForever()
    {
        var sink = new RecordingSink();
        var writer = new BackgroundLogWriter([sink], () => { }, capacity: 4);
        writer.Dispose();

        var late = () =>
        {
            for (var i = 0; i < 10; i++)
            {
                writer.Emit(Event(i));   // past half the capacity: no wake-up of a stopped thread either
            }
        };

        late.Should().NotThrow("a stopping host may still log a line or two");
        writer.Dropped.Should().Be(10);
        writer.Queued.Should().Be(0);
        sink.Events.Should().BeEmpty();
    }

    [Fact]
    public void EventsLoggedWhileDisposing_AreEachWrittenOrCountedAsDropped()
    {
        var sink = new RecordingSink();
        var writer = new BackgroundLogWriter([sink], () => { }, capacity: 10_000_000);
        using var started = new CountdownEvent(4);
        var stop = 0;
        var emitted = new long[4];
        var producers = Enumerable.Range(0, 4).Select(p => new Thread(() =>
        {
            started.Signal();
            while (Volatile.Read(ref stop) == 0)
            {
                writer.Emit(Event(p));
                emitted[p]++;
            }
        })).ToList();
        producers.ForEach(t => t.Start());
        started.Wait(Patience).Should().BeTrue();
        WaitUntil(() => sink.Events.Count > 1000);

        writer.Dispose();   // while four threads still log
        var writtenAtDispose = sink.Events.Count;
        WaitUntil(() => writer.Dropped > 1000);   // the producers went on after it
        Volatile.Write(ref stop, 1);
        producers.ForEach(t => t.Join());

        sink.Events.Count.Should().Be(writtenAtDispose, "nothing is written after the writer stopped");
        (sink.Events.Count + writer.Dropped).Should().Be(emitted.Sum(), "an event that raced the stop is written or counted, never lost");
        writer.Queued.Should().Be(0);
    }

    [Fact]
    public void FailingSink_NeitherStopsTheWriterNorTheOtherSinks()
    {
        var broken = new RecordingSink(fail: true);
        var sink = new RecordingSink();
        var flushes = 0;
        using var writer = new BackgroundLogWriter([broken, sink], () => Interlocked.Increment(ref flushes), capacity: 100);

        for (var i = 0; i < 3; i++)
        {
            writer.Emit(Event(i));
        }

        WaitUntil(() => sink.Events.Count == 3);
        sink.Numbers().Should().Equal(0, 1, 2);
        broken.Entered.Should().Be(3, "the failing sink is still offered every event");
        WaitUntil(() => Volatile.Read(ref flushes) > 0);
    }

    private static LogEvent Event(int number) =>
        new(DateTimeOffset.UnixEpoch, LogEventLevel.Information, null, Template, [new LogEventProperty("N", new ScalarValue(number))]);

    private static void WaitUntil(Func<bool> condition)
    {
        var started = Stopwatch.StartNew();
        while (!condition())
        {
            started.Elapsed.Should().BeLessThan(Patience, "the writer should have got there");
            Thread.Sleep(5);
        }
    }

    private sealed class RecordingSink(ManualResetEventSlim? gate = null, bool fail = false) : ILogEventSink, IDisposable
    {
        private int _entered;

        public ConcurrentQueue<LogEvent> Events { get; } = new();

        public int Entered => Volatile.Read(ref _entered);

        public bool Disposed { get; private set; }

        public void Emit(LogEvent logEvent)
        {
            Interlocked.Increment(ref _entered);
            gate?.Wait();
            if (fail)
            {
                throw new IOException("stdout is closed");
            }

            Events.Enqueue(logEvent);
        }

        public IEnumerable<int> Numbers() => Events.Select(e => (int)((ScalarValue)e.Properties["N"]).Value!);

        public void Dispose() => Disposed = true;
    }
}
