using MaaS.Core.Batching;
using MaaS.Core.Inference;
using MaaS.Core.Tensors;
using Microsoft.Extensions.Time.Testing;

namespace MaaS.Core.Tests;

/// <summary>How the dynamic batcher's queue forms batches, on a fake clock: sizes, delays, preferred sizes, shapes, priorities, timeouts, cancellation, draining.</summary>
public sealed class BatchQueueTests : IDisposable
{
    private readonly FakeTimeProvider _time = new();
    private readonly List<InferRequest> _requests = [];

    [Fact]
    public void NoDelay_TakesEverythingQueuedAtOnce()
    {
        var queue = Queue(new BatchingPolicy(8, [], TimeSpan.Zero, 1, 1, [QueuePolicy.Unbounded]));
        Enqueue(queue, Request(1));
        Enqueue(queue, Request(1));
        Enqueue(queue, Request(2));

        Take(queue).Select(entry => entry.Rows).Should().Equal(1, 1, 2);
        queue.Count.Should().Be(0);
    }

    [Fact]
    public void MaxBatchSize_SplitsRowsIntoBatchesNoLargerThanIt()
    {
        var queue = Queue(new BatchingPolicy(4, [], TimeSpan.Zero, 1, 1, [QueuePolicy.Unbounded]));
        for (var i = 0; i < 6; i++)
        {
            Enqueue(queue, Request(1));
        }

        Take(queue).Should().HaveCount(4);
        Take(queue).Should().HaveCount(2);
    }

    [Fact]
    public void RequestsOfSeveralRows_JoinOnlyWhileTheTotalFits()
    {
        var queue = Queue(new BatchingPolicy(8, [], TimeSpan.Zero, 1, 1, [QueuePolicy.Unbounded]));
        var a = Enqueue(queue, Request(3));
        var b = Enqueue(queue, Request(3));
        var c = Enqueue(queue, Request(3));
        var d = Enqueue(queue, Request(2));

        Take(queue).Should().Equal(a, b, d);
        Take(queue).Should().Equal(c);
    }

    [Fact]
    public void PartialBatch_WaitsForTheQueueDelayMeasuredFromItsOldestRequest()
    {
        var queue = Queue(new BatchingPolicy(8, [], TimeSpan.FromMilliseconds(10), 1, 1, [QueuePolicy.Unbounded]));
        var first = Enqueue(queue, Request(1));
        _time.Advance(TimeSpan.FromMilliseconds(4));
        var second = Enqueue(queue, Request(1));

        TryTake(queue, out var wait).Should().BeEmpty();
        wait.Should().Be(TimeSpan.FromMilliseconds(6));

        _time.Advance(TimeSpan.FromMilliseconds(6));
        Take(queue).Should().Equal(first, second);
        first.QueueTime.Should().Be(TimeSpan.FromMilliseconds(10));
        second.QueueTime.Should().Be(TimeSpan.FromMilliseconds(6));
    }

    [Fact]
    public void FullBatch_LeavesWithoutWaitingForTheDelay()
    {
        var queue = Queue(new BatchingPolicy(2, [], TimeSpan.FromSeconds(10), 1, 1, [QueuePolicy.Unbounded]));
        Enqueue(queue, Request(1));
        TryTake(queue, out _).Should().BeEmpty();

        Enqueue(queue, Request(1));

        Take(queue).Should().HaveCount(2);
    }

    [Fact]
    public void PreferredSize_LeavesAtOnce_AndTheLargestFormableOneIsTaken()
    {
        var queue = Queue(new BatchingPolicy(16, [2, 4], TimeSpan.FromSeconds(10), 1, 1, [QueuePolicy.Unbounded]));
        Enqueue(queue, Request(1));
        TryTake(queue, out _).Should().BeEmpty("one row is no preferred size and the delay has not passed");

        for (var i = 0; i < 4; i++)
        {
            Enqueue(queue, Request(1));
        }

        Take(queue).Should().HaveCount(4, "of five rows, four is the largest preferred size");
        TryTake(queue, out _).Should().BeEmpty("the fifth waits for more, or for the delay");
        queue.Count.Should().Be(1);
    }

    [Fact]
    public void DifferentNonBatchDims_NeverShareABatch_AndTheOddOneIsServedNext()
    {
        var queue = Queue(new BatchingPolicy(8, [], TimeSpan.Zero, 1, 1, [QueuePolicy.Unbounded]));
        var short1 = Enqueue(queue, Request(1, width: 8));
        var long1 = Enqueue(queue, Request(1, width: 16));
        var short2 = Enqueue(queue, Request(1, width: 8));

        Take(queue).Should().Equal(short1, short2);
        Take(queue).Should().Equal(long1);
    }

    [Fact]
    public void ModelWithoutBatchDimension_RunsOneRequestPerBatch()
    {
        var queue = Queue(new BatchingPolicy(0, [], TimeSpan.Zero, 1, 1, [QueuePolicy.Unbounded]));
        Enqueue(queue, Request(1));
        Enqueue(queue, Request(1));

        Take(queue).Should().HaveCount(1);
        Take(queue).Should().HaveCount(1);
    }

    [Fact]
    public void HigherPriorityLevel_IsServedFirst_AndZeroOrUnknownMeansTheDefault()
    {
        var queue = Queue(new BatchingPolicy(1, [], TimeSpan.Zero, 3, 2, [QueuePolicy.Unbounded, QueuePolicy.Unbounded, QueuePolicy.Unbounded]));
        var low = Enqueue(queue, Request(1, priority: 3));
        var byDefault = Enqueue(queue, Request(1, priority: 0));
        var unknown = Enqueue(queue, Request(1, priority: 99));
        var high = Enqueue(queue, Request(1, priority: 1));

        byDefault.Level.Should().Be(2);
        unknown.Level.Should().Be(2);
        Take(queue).Should().Equal(high);
        Take(queue).Should().Equal(byDefault);
        Take(queue).Should().Equal(unknown);
        Take(queue).Should().Equal(low);
    }

    [Fact]
    public void FullQueue_RefusesAtOnceWith503_OnlyAtItsOwnLevel()
    {
        var bounded = new QueuePolicy(2, TimeSpan.Zero, TimeoutAction.Reject, false);
        var queue = Queue(new BatchingPolicy(8, [], TimeSpan.FromSeconds(10), 2, 1, [bounded, QueuePolicy.Unbounded]));
        Enqueue(queue, Request(1));
        Enqueue(queue, Request(1));

        var refused = () => Enqueue(queue, Request(1));

        refused.Should().Throw<ServingException>()
            .Where(ex => ex.Kind == FailureKind.NotReady && ex.Message.Contains("Exceeds maximum queue size", StringComparison.Ordinal));
        Enqueue(queue, Request(1, priority: 2)).Level.Should().Be(2);
        queue.Count.Should().Be(3);
    }

    [Fact]
    public async Task Timeout_WithReject_Answers503AndLeavesTheQueue()
    {
        var policy = new QueuePolicy(0, TimeSpan.FromMilliseconds(5), TimeoutAction.Reject, false);
        var queue = Queue(new BatchingPolicy(8, [], TimeSpan.FromSeconds(10), 1, 1, [policy]));
        var entry = Enqueue(queue, Request(1));

        _time.Advance(TimeSpan.FromMilliseconds(5));

        var failure = await entry.Invoking(e => e.Completion).Should().ThrowAsync<ServingException>();
        failure.Which.Kind.Should().Be(FailureKind.NotReady);
        failure.Which.Message.Should().Contain("Request timeout expired");
        queue.Count.Should().Be(0);
    }

    [Fact]
    public void Timeout_WithDelay_KeepsTheRequestBehindThoseThatHaveNotTimedOut()
    {
        var policy = new QueuePolicy(0, TimeSpan.FromMilliseconds(5), TimeoutAction.Delay, false);
        var queue = Queue(new BatchingPolicy(1, [], TimeSpan.Zero, 1, 1, [policy]));
        var late = Enqueue(queue, Request(1));
        _time.Advance(TimeSpan.FromMilliseconds(5));
        var fresh = Enqueue(queue, Request(1));

        late.Delayed.Should().BeTrue();
        late.Completion.IsCompleted.Should().BeFalse();
        Take(queue).Should().Equal(fresh);
        Take(queue).Should().Equal(late);
    }

    [Theory]
    [InlineData(true, 2_000, 2)]   // a shorter request timeout applies
    [InlineData(true, 20_000, 10)] // a longer one cannot extend the default
    [InlineData(false, 2_000, 10)] // without allow_timeout_override it is ignored
    public async Task RequestTimeout_OnlyShortensTheDefault_WhereOverrideIsAllowed(bool allowOverride, long requestMicroseconds, int expiresAfterMs)
    {
        var policy = new QueuePolicy(0, TimeSpan.FromMilliseconds(10), TimeoutAction.Reject, allowOverride);
        var queue = Queue(new BatchingPolicy(8, [], TimeSpan.FromSeconds(10), 1, 1, [policy]));
        var entry = Enqueue(queue, Request(1, timeoutMicroseconds: requestMicroseconds));

        _time.Advance(TimeSpan.FromMilliseconds(expiresAfterMs - 1));
        entry.Completion.IsCompleted.Should().BeFalse();
        _time.Advance(TimeSpan.FromMilliseconds(1));

        await entry.Invoking(e => e.Completion).Should().ThrowAsync<ServingException>();
    }

    [Fact]
    public async Task CancelledWhileQueued_LeavesTheQueue_AndIsNeverBatched()
    {
        var queue = Queue(new BatchingPolicy(8, [], TimeSpan.FromMilliseconds(10), 1, 1, [QueuePolicy.Unbounded]));
        using var disconnect = new CancellationTokenSource();
        var gone = Enqueue(queue, Request(1), disconnect.Token);
        var stays = Enqueue(queue, Request(1));

        await disconnect.CancelAsync();

        await gone.Invoking(e => e.Completion).Should().ThrowAsync<OperationCanceledException>();
        queue.Count.Should().Be(1);
        _time.Advance(TimeSpan.FromMilliseconds(10));
        Take(queue).Should().Equal(stays);
    }

    [Fact]
    public void Complete_RefusesNewRequests_ButHandsOutThoseQueuedWithoutWaiting()
    {
        var queue = Queue(new BatchingPolicy(8, [], TimeSpan.FromSeconds(10), 1, 1, [QueuePolicy.Unbounded]));
        var queued = Enqueue(queue, Request(1));

        queue.Complete();

        var refused = () => Enqueue(queue, Request(1));
        refused.Should().Throw<ServingException>().Where(ex => ex.Kind == FailureKind.NotReady);
        var batch = new List<QueuedRequest>();
        queue.TakeBatch(batch).Should().BeTrue("the queued request is drained, not dropped, and the delay no longer applies");
        batch.Should().Equal(queued);
        queue.TakeBatch(batch).Should().BeFalse("an empty completed queue tells the worker to stop");
    }

    [Fact]
    public async Task TakeBatch_WakesWhenTheDelayPassesOnTheQueuesClock()
    {
        var queue = Queue(new BatchingPolicy(8, [], TimeSpan.FromMilliseconds(50), 1, 1, [QueuePolicy.Unbounded]));
        var entry = Enqueue(queue, Request(1));
        var batch = new List<QueuedRequest>();
        var worker = Task.Factory.StartNew(() => queue.TakeBatch(batch), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

        while (!worker.IsCompleted)
        {
            // The worker sets a timer on the fake clock; advancing past it wakes the worker.
            _time.Advance(TimeSpan.FromMilliseconds(10));
            await Task.Delay(5);
        }

        (await worker).Should().BeTrue();
        batch.Should().Equal(entry);
        entry.QueueTime.Should().BeGreaterThanOrEqualTo(TimeSpan.FromMilliseconds(50));
    }

    [Fact]
    public void CanJoin_RequiresTheSameInputsDatatypesAndNonBatchDims()
    {
        var a = Request(2, width: 4);

        BatchQueue.CanJoin(a, Request(5, width: 4)).Should().BeTrue("only the batch dimension may differ");
        BatchQueue.CanJoin(a, Request(1, width: 5)).Should().BeFalse();
        BatchQueue.CanJoin(a, Request(1, width: 4, dataType: TensorDataType.Int32)).Should().BeFalse();
        BatchQueue.CanJoin(a, Request(1, width: 4, name: "other")).Should().BeFalse();
    }

    [Fact]
    public void CanJoin_TokenSequences_MayDifferInLengthOnly()
    {
        var a = Request(2, width: 7, padsSequences: true);

        BatchQueue.CanJoin(a, Request(3, width: 12, padsSequences: true)).Should().BeTrue("sequences are padded to the batch's longest");
        BatchQueue.CanJoin(a, Request(3, width: 12)).Should().BeFalse("a request that is not token sequences is never padded");
        BatchQueue.CanJoin(a, Request(3, width: 12, padsSequences: true, dataType: TensorDataType.Int32)).Should().BeFalse();
        BatchQueue.CanJoin(Request(1, width: 7, padsSequences: true, depth: 2), Request(1, width: 9, padsSequences: true, depth: 3))
            .Should().BeFalse("only the length, the second dim, may differ");
    }

    public void Dispose()
    {
        foreach (var request in _requests)
        {
            request.Dispose();
        }
    }

    private BatchQueue Queue(BatchingPolicy policy) => new(policy, _time);

    private static QueuedRequest Enqueue(BatchQueue queue, InferRequest request, CancellationToken cancellationToken = default) =>
        queue.Enqueue(request, cancellationToken);

    private static List<QueuedRequest> Take(BatchQueue queue)
    {
        var batch = TryTake(queue, out _);
        batch.Should().NotBeEmpty("a batch is due");
        return batch;
    }

    private static List<QueuedRequest> TryTake(BatchQueue queue, out TimeSpan wait)
    {
        var batch = new List<QueuedRequest>();
        queue.TryTakeBatch(batch, out wait);
        foreach (var entry in batch)
        {
            entry.Disarm();
        }

        return batch;
    }

    private InferRequest Request(
        long rows, int width = 4, long priority = 0, long timeoutMicroseconds = 0, TensorDataType dataType = TensorDataType.Fp32, string name = "input",
        bool padsSequences = false, int depth = 0)
    {
        var request = new InferRequest { Priority = priority, TimeoutMicroseconds = timeoutMicroseconds, PadsSequences = padsSequences };
        long[] shape = depth > 0 ? [rows, width, depth] : [rows, width];
        request.Inputs.Add(new InferInput(name, dataType, shape, TensorBuffer.Rent((int)(rows * width * Math.Max(depth, 1) * 4))));
        _requests.Add(request);
        return request;
    }
}
