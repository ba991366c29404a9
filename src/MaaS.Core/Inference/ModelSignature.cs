using MaaS.Core.Tensors;

namespace MaaS.Core.Inference;

/// <summary>What a model version accepts and returns, merged from config.json and the ONNX graph.</summary>
public sealed class ModelSignature
{
    private readonly Dictionary<string, TensorSpec> _inputs;
    private readonly Dictionary<string, TensorSpec> _outputs;

    public ModelSignature(int maxBatchSize, IReadOnlyList<TensorSpec> inputs, IReadOnlyList<TensorSpec> outputs)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxBatchSize);
        MaxBatchSize = maxBatchSize;
        Inputs = inputs;
        Outputs = outputs;
        _inputs = inputs.ToDictionary(spec => spec.Name, StringComparer.Ordinal);
        _outputs = outputs.ToDictionary(spec => spec.Name, StringComparer.Ordinal);
    }

    /// <summary>0 = no implicit batch dim (dims are the full shape); n &gt; 0 = the first dim is the batch, at most n.</summary>
    public int MaxBatchSize { get; }

    public IReadOnlyList<TensorSpec> Inputs { get; }

    public IReadOnlyList<TensorSpec> Outputs { get; }

    /// <summary>Rows of the batch dimension a validated request brings: its first dim when the model batches, else 1.</summary>
    public long RowsOf(InferRequest request) => request.BatchRows(MaxBatchSize);

    public bool TryGetInput(string name, out TensorSpec spec) => _inputs.TryGetValue(name, out spec!);

    public bool TryGetOutput(string name, out TensorSpec spec) => _outputs.TryGetValue(name, out spec!);

    /// <summary>The shape a client sees in metadata: dims, with a leading -1 when the model batches.</summary>
    public long[] ProtocolShape(TensorSpec spec) => MaxBatchSize > 0 ? [-1, .. spec.Dims] : spec.Dims;

    /// <summary>"a (FP32 [-1,4]), b (INT64 [-1,-1])", for error messages that say what was expected.</summary>
    public string Describe(IReadOnlyList<TensorSpec> specs) =>
        string.Join(", ", specs.Select(spec => $"{spec.Name} ({spec.DataType.ToProtocolName()} {TensorShape.Format(ProtocolShape(spec))})"));
}
