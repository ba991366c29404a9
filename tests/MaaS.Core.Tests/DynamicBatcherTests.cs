using MaaS.Core.Batching;
using MaaS.Core.Inference;
using MaaS.Core.Tensors;

namespace MaaS.Core.Tests;

/// <summary>The batcher's workers: a failing batch fails only its own requests and the worker carries on; completion drains the queue.</summary>
public sealed class DynamicBatcherTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private readonly List<InferRequest> _requests = [];

    [Fact]
    public async Task FailingBatch_FailsOnlyItsRequests_WithTheError_AndTheWorkerCarriesOn()
    {
        var queue = new BatchQueue(new BatchingPolicy(8, [], TimeSpan.Zero, 1, 1, [QueuePolicy.Unbounded]), TimeProvider.System);
        var executed = 0;
        var batcher = new DynamicBatcher(queue, 1, "test", (_, batch) =>
        {
            if (Interlocked.Increment(ref executed) == 1)
            {
                throw new InvalidOperationException("first batch breaks");
            }

            foreach (var entry in batch)
            {
                entry.Fail(new TimeoutException("answered by the second batch"));
            }
        });

        var first = queue.Enqueue(Request(), CancellationToken.None);
        var failure = await first.Invoking(entry => entry.Completion.WaitAsync(Patience)).Should().ThrowAsync<InvalidOperationException>();
        failure.Which.Message.Should().Be("first batch breaks");

        var second = queue.Enqueue(Request(), CancellationToken.None);
        await second.Invoking(entry => entry.Completion.WaitAsync(Patience)).Should().ThrowAsync<TimeoutException>("the worker survived and ran the next batch");

        batcher.Complete();
        await batcher.Completion.WaitAsync(Patience);
    }

    [Fact]
    public async Task Complete_DrainsWhatIsQueued_ThenTheWorkersStop()
    {
        var queue = new BatchQueue(new BatchingPolicy(1, [], TimeSpan.Zero, 1, 1, [QueuePolicy.Unbounded]), TimeProvider.System);
        using var release = new ManualResetEventSlim();
        var ran = new List<QueuedRequest>();
        var batcher = new DynamicBatcher(queue, 2, "test", (_, batch) =>
        {
            release.Wait(Patience);
            lock (ran)
            {
                ran.AddRange(batch);
            }

            foreach (var entry in batch)
            {
                entry.Cancel();
            }
        });
        var entries = Enumerable.Range(0, 5).Select(_ => queue.Enqueue(Request(), CancellationToken.None)).ToList();

        batcher.Complete();
        release.Set();
        await batcher.Completion.WaitAsync(Patience);

        ran.Should().HaveCount(entries.Count).And.OnlyHaveUniqueItems();
        entries.Should().OnlyContain(entry => ran.Contains(entry), "every queued request ran before the workers stopped");
        entries.Should().OnlyContain(entry => entry.Completion.IsCompleted);
    }

    public void Dispose()
    {
        foreach (var request in _requests)
        {
            request.Dispose();
        }
    }

    private InferRequest Request()
    {
        var request = new InferRequest();
        request.Inputs.Add(new InferInput("input", TensorDataType.Fp32, [1, 4], TensorBuffer.Rent(16)));
        _requests.Add(request);
        return request;
    }
}
