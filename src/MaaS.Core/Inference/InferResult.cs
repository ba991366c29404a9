using Microsoft.ML.OnnxRuntime;

namespace MaaS.Core.Inference;

/// <summary>
/// The outputs of one request's run, in the order the client asked for them. Disposing it frees ONNX Runtime's
/// tensors, or, when the request ran in a batch, its share of them (the last request of the batch frees them).
/// </summary>
public sealed class InferResult : IDisposable
{
    private readonly IDisposable _values;

    internal InferResult(IDisposable values, IReadOnlyList<InferOutput> outputs)
    {
        _values = values;
        Outputs = outputs;
    }

    public IReadOnlyList<InferOutput> Outputs { get; }

    /// <summary>Where the run's time went: waiting in the queue or for an instance, preparing inputs, the model, preparing outputs.</summary>
    public RunTimings Timings { get; internal set; }

    /// <summary>Rows of the batch dimension in the run that served this request (its own and those it was batched with).</summary>
    public long ExecutedBatchSize { get; internal set; } = 1;

    /// <summary>True for exactly one request of each run, the one that counts the model execution in the statistics.</summary>
    public bool CountsExecution { get; internal set; } = true;

    public void Dispose()
    {
        foreach (var output in Outputs)
        {
            output.Serialized?.Dispose();
        }

        _values.Dispose();
    }
}

/// <summary>One run's output tensors shared by the requests of a batch: freed when the last of them lets go.</summary>
internal sealed class SharedRunValues(IDisposableReadOnlyCollection<OrtValue> values, int owners)
{
    private int _owners = owners;

    public IDisposableReadOnlyCollection<OrtValue> Values => values;

    /// <summary>One owner's hold; disposing it (once) releases that owner.</summary>
    public IDisposable Share() => new Hold(this);

    /// <summary>Lets go of <paramref name="count"/> owners' holds that were never handed out.</summary>
    public void Release(int count)
    {
        if (Interlocked.Add(ref _owners, -count) == 0)
        {
            values.Dispose();
        }
    }

    private sealed class Hold(SharedRunValues shared) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                shared.Release(1);
            }
        }
    }
}
