using MaaS.Core.Sessions;
using Microsoft.ML.OnnxRuntime;

namespace MaaS.Core.Tests;

public sealed class SessionPoolTests
{
    private static readonly string MlpFile = Path.Combine(RepositoryPaths.Models, "mlp", "1", "model.onnx");

    private static SessionPool Pool(int count) =>
        new(Enumerable.Range(0, count).Select(_ => new InferenceSession(MlpFile)).ToList());

    [Fact]
    public async Task LeaseAsync_WhileInstancesAreIdle_HandsOutDistinctSessions()
    {
        using var pool = Pool(2);

        using var first = await pool.LeaseAsync(CancellationToken.None);
        using var second = await pool.LeaseAsync(CancellationToken.None);

        first.Session.Should().NotBeSameAs(second.Session);
        pool.Idle.Should().Be(0);
    }

    [Fact]
    public async Task LeaseAsync_WhenAllBusy_ServesWaitersInArrivalOrder()
    {
        using var pool = Pool(1);
        var held = await pool.LeaseAsync(CancellationToken.None);
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
        using var lease = await pool.LeaseAsync(CancellationToken.None);
        lock (order)
        {
            order.Add(index);
        }
    }

    [Fact]
    public async Task LeaseAsync_CancelledWhileWaiting_ThrowsAndTakesNothing()
    {
        using var pool = Pool(1);
        using var held = await pool.LeaseAsync(CancellationToken.None);
        using var cancellation = new CancellationTokenSource();

        var waiting = pool.LeaseAsync(cancellation.Token).AsTask();
        await cancellation.CancelAsync();

        await waiting.Invoking(task => task).Should().ThrowAsync<OperationCanceledException>();
        held.Dispose();
        pool.Idle.Should().Be(1);
        using var next = await pool.LeaseAsync(CancellationToken.None);
        next.Session.Should().NotBeNull();
    }

    [Fact]
    public async Task LeaseAsync_ManyConcurrentLeases_ReturnEveryInstance()
    {
        using var pool = Pool(3);

        await Parallel.ForEachAsync(Enumerable.Range(0, 500), async (_, token) =>
        {
            using var lease = await pool.LeaseAsync(token);
            await Task.Yield();
        });

        pool.Idle.Should().Be(3);
    }
}
