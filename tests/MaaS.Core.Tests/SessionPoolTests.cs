using MaaS.Core.Sessions;
using Microsoft.Extensions.Time.Testing;
using Microsoft.ML.OnnxRuntime;

namespace MaaS.Core.Tests;

public sealed class SessionPoolTests
{
    private static readonly string MlpFile = Path.Combine(RepositoryPaths.Models, "mlp", "1", "model.onnx");

    private static readonly TimeSpan WaitTimeout = TimeSpan.FromSeconds(5);

    private static SessionPool Pool(int count, TimeProvider? time = null) =>
        new(Enumerable.Range(0, count).Select(_ => new InferenceSession(MlpFile)).ToList(), time ?? TimeProvider.System, WaitTimeout);

    [Fact]
    public async Task LeaseAsync_WhileInstancesAreIdle_HandsOutDistinctSessions()
    {
        using var pool = Pool(2);

        using var first = await pool.LeaseAsync(0, CancellationToken.None);
        using var second = await pool.LeaseAsync(0, CancellationToken.None);

        first.Session.Should().NotBeSameAs(second.Session);
        pool.Idle.Should().Be(0);
    }

    [Fact]
    public async Task LeaseAsync_WhenAllBusy_ServesWaitersInArrivalOrder()
    {
        using var pool = Pool(1);
        var held = await pool.LeaseAsync(0, CancellationToken.None);
        var order = new List<int>();

        // Each call queues synchronously, in index order, before the instance comes back.
        var waiters = Enumerable.Range(0, 5).Select(i => LeaseAndRecordAsync(pool, i, order)).ToList();
        waiters.Should().OnlyContain(waiter => !waiter.IsCompleted);
        held.Dispose();
        await Task.WhenAll(waiters);

        order.Should().Equal(0, 1, 2, 3, 4);
        pool.Idle.Should().Be(1, "every lease went back");
    }

    private static async Task LeaseAndRecordAsync(SessionPool pool, int index, List<int> order)
    {
        using var lease = await pool.LeaseAsync(0, CancellationToken.None);
        lock (order)
        {
            order.Add(index);
        }
    }

    [Fact]
    public async Task LeaseAsync_CancelledWhileWaiting_ThrowsAndTakesNothing()
    {
        using var pool = Pool(1);
        using var held = await pool.LeaseAsync(0, CancellationToken.None);
        using var cancellation = new CancellationTokenSource();

        var waiting = pool.LeaseAsync(0, cancellation.Token).AsTask();
        await cancellation.CancelAsync();

        await waiting.Invoking(task => task).Should().ThrowAsync<OperationCanceledException>();
        held.Dispose();
        pool.Idle.Should().Be(1);
        using var next = await pool.LeaseAsync(0, CancellationToken.None);
        next.Session.Should().NotBeNull();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task LeaseAsync_ManyConcurrentLeases_ReturnEverySession(bool withLoneSession)
    {
        using var pool = Pool(3);
        var lone = withLoneSession ? new InferenceSession(MlpFile) : null;
        if (lone is not null)
        {
            pool.AttachLoneSession(lone);
        }

        var leases = 0;

        await Parallel.ForEachAsync(Enumerable.Range(0, 500), async (_, token) =>
        {
            using var lease = await pool.LeaseAsync(0, token);
            Interlocked.Increment(ref leases);
            await Task.Yield();
        });

        leases.Should().Be(500);
        pool.Idle.Should().Be(3);
        if (lone is not null)
        {
            using var next = await pool.LeaseAsync(0, CancellationToken.None);
            next.Session.Should().BeSameAs(lone, "the lone session is free again");
        }
    }

    [Fact]
    public async Task LeaseAsync_PoolIdle_TakesTheLoneSession_OtherwiseAnInstance()
    {
        using var pool = Pool(2);
        var lone = new InferenceSession(MlpFile);
        pool.AttachLoneSession(lone);

        using (var alone = await pool.LeaseAsync(0, CancellationToken.None))
        {
            alone.Session.Should().BeSameAs(lone, "nothing else runs");
            using var beside = await pool.LeaseAsync(0, CancellationToken.None);
            beside.Session.Should().NotBeSameAs(lone, "the lone session is busy");
            pool.Idle.Should().Be(1);
        }

        using (var held = await pool.LeaseAsync(0, CancellationToken.None))
        {
            held.Session.Should().BeSameAs(lone, "it came back, and the pool is idle again");
        }

        var first = await pool.LeaseAsync(0, CancellationToken.None);
        using var instance = await pool.LeaseAsync(0, CancellationToken.None);
        first.Session.Should().BeSameAs(lone);
        first.Dispose();
        using var third = await pool.LeaseAsync(0, CancellationToken.None);
        third.Session.Should().NotBeSameAs(lone, "an instance is busy: the pool is not idle");
        pool.Idle.Should().Be(0);
    }

    [Fact]
    public void ReleaseOnlySession_HandsTheSessionOver_AndTheDisposedPoolLeavesItOpen()
    {
        InferenceSession session;
        using (var single = Pool(1))
        {
            session = single.ReleaseOnlySession();
        }

        using (session)
        {
            session.InputMetadata.Should().ContainKey("input", "the session still works after its old pool is gone");
        }

        using var two = Pool(2);
        two.Invoking(pool => pool.ReleaseOnlySession()).Should().Throw<InvalidOperationException>();
    }

    [Fact]
    public async Task LeaseAsync_AllBusyPastTheWaitTimeout_Throws503AndTakesNothing()
    {
        var time = new FakeTimeProvider();
        using var pool = Pool(1, time);
        var held = await pool.LeaseAsync(0, CancellationToken.None);

        var waiting = pool.LeaseAsync(0, CancellationToken.None).AsTask();
        pool.Waiting.Should().Be(1);
        time.Advance(WaitTimeout);

        var failure = (await waiting.Invoking(task => task).Should().ThrowAsync<ServingException>()).Which;
        failure.Kind.Should().Be(FailureKind.NotReady, "a 503: the server is overloaded, the client may retry");
        failure.InnerException.Should().BeOfType<SessionWaitTimeoutException>();
        failure.Message.Should().Contain("SessionWaitTimeoutSeconds").And.Contain("5 s");
        pool.Waiting.Should().Be(0);
        held.Dispose();
        pool.Idle.Should().Be(1, "the waiter that gave up took no instance");
    }

    [Fact]
    public async Task LeaseAsync_InstanceFreedBeforeTheTimeout_GoesToTheWaiter()
    {
        var time = new FakeTimeProvider();
        using var pool = Pool(1, time);
        var held = await pool.LeaseAsync(0, CancellationToken.None);

        var waiting = pool.LeaseAsync(0, CancellationToken.None).AsTask();
        time.Advance(WaitTimeout - TimeSpan.FromMilliseconds(1));
        var firstSession = held.Session;
        held.Dispose();
        using var lease = await waiting;
        time.Advance(WaitTimeout);

        lease.Session.Should().BeSameAs(firstSession);
        pool.Waiting.Should().Be(0);
    }

    [Fact]
    public async Task LeaseAsync_RequestTimeoutShorterThanTheServers_GivesUpAtTheRequests()
    {
        var time = new FakeTimeProvider();
        using var pool = Pool(1, time);
        using var held = await pool.LeaseAsync(0, CancellationToken.None);

        var waiting = pool.LeaseAsync(requestTimeoutMicroseconds: 100_000, CancellationToken.None).AsTask();
        time.Advance(TimeSpan.FromMilliseconds(100));

        (await waiting.Invoking(task => task).Should().ThrowAsync<ServingException>()).Which.Message.Should().Contain("0.1 s");
    }

    [Fact]
    public async Task LeaseAsync_RequestTimeoutLongerThanTheServers_TheServersApplies()
    {
        var time = new FakeTimeProvider();
        using var pool = Pool(1, time);
        using var held = await pool.LeaseAsync(0, CancellationToken.None);

        // A request may only shorten the wait (Triton's rule); the largest value a client can send must not overflow.
        var waiting = pool.LeaseAsync(requestTimeoutMicroseconds: long.MaxValue, CancellationToken.None).AsTask();
        time.Advance(WaitTimeout);

        (await waiting.Invoking(task => task).Should().ThrowAsync<ServingException>()).Which.Message.Should().Contain("5 s");
    }
}
