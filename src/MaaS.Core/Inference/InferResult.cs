using Microsoft.ML.OnnxRuntime;

namespace MaaS.Core.Inference;

/// <summary>The outputs of one run, in the order the client asked for them. Disposing it frees ONNX Runtime's tensors.</summary>
public sealed class InferResult : IDisposable
{
    private readonly IDisposableReadOnlyCollection<OrtValue> _values;

    internal InferResult(IDisposableReadOnlyCollection<OrtValue> values, IReadOnlyList<InferOutput> outputs)
    {
        _values = values;
        Outputs = outputs;
    }

    public IReadOnlyList<InferOutput> Outputs { get; }

    /// <summary>Where the run's time went: waiting for an instance, preparing inputs, the model, preparing outputs.</summary>
    public RunTimings Timings { get; internal set; }

    public void Dispose()
    {
        foreach (var output in Outputs)
        {
            output.Serialized?.Dispose();
        }

        _values.Dispose();
    }
}
