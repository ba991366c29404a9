using MaaS.Core.Registry;

namespace MaaS.Core.Tests;

public sealed class ModelLocksTests
{
    [Fact]
    public async Task TryLock_WhileHeld_ReturnsNullAndSucceedsOnceReleased()
    {
        var locks = new ModelLocks();
        var held = await locks.LockAsync("m", CancellationToken.None);

        locks.TryLock("m").Should().BeNull();
        using (var other = locks.TryLock("n"))
        {
            other.Should().NotBeNull("another model's lock is independent");
        }

        held.Dispose();
        using var again = locks.TryLock("m");
        again.Should().NotBeNull();
    }

    [Fact]
    public async Task Locks_OfNamesNoLongerInUse_AreReleased()
    {
        var locks = new ModelLocks();
        var first = await locks.LockAsync("gone", CancellationToken.None);
        var waiting = locks.LockAsync("gone", CancellationToken.None);
        locks.Count.Should().Be(1);
        waiting.IsCompleted.Should().BeFalse();

        first.Dispose();
        (await waiting).Dispose();
        first.Dispose();
        locks.TryLock("other")!.Dispose();

        locks.Count.Should().Be(0, "no entry outlives its last holder or waiter");
    }

    [Fact]
    public async Task LockAsync_CancelledWhileWaiting_LeavesNoEntryBehind()
    {
        var locks = new ModelLocks();
        using var cancel = new CancellationTokenSource();
        var held = await locks.LockAsync("m", CancellationToken.None);
        var waiting = locks.LockAsync("m", cancel.Token);

        await cancel.CancelAsync();
        var act = () => waiting;

        await act.Should().ThrowAsync<OperationCanceledException>();
        held.Dispose();
        locks.Count.Should().Be(0);
    }
}
