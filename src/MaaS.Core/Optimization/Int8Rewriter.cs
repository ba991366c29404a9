using MaaS.Core.Optimization.Onnx;

namespace MaaS.Core.Optimization;

/// <summary>
/// One pass of <see cref="Int8Transform"/> over a model's main graph: each MatMul, Gemm or Gather over a constant FP32
/// weight is replaced in place by its quantised form; a weight shared by several nodes is quantised once, and its FP32
/// copy is dropped only when nothing else (an unchanged node, a subgraph, a graph output) still reads it.
/// Nodes inside subgraphs (If, Loop, Scan bodies) are left as they are.
/// </summary>
internal sealed partial class Int8Rewriter
{
    private readonly ModelProto _model;
    private readonly GraphProto _graph;
    private readonly Int8MatMulKernel _kernel;
    private readonly bool _sevenBitWeights;
    private readonly OnnxNames _names;
    private readonly Dictionary<string, TensorProto> _constants;
    private readonly Dictionary<string, QuantizedWeight> _quantized = new(StringComparer.Ordinal);
    private readonly HashSet<string> _touched = new(StringComparer.Ordinal);
    private readonly SortedDictionary<string, int> _changed = new(StringComparer.Ordinal);
    private readonly SortedDictionary<string, int> _kept = new(StringComparer.Ordinal);

    public Int8Rewriter(ModelProto model, Int8MatMulKernel kernel, bool sevenBitWeights)
    {
        _model = model;
        _graph = model.Graph;
        _kernel = kernel;
        _sevenBitWeights = sevenBitWeights;
        _names = new OnnxNames(model);

        // An initializer that is also a graph input can be overridden at run time: it is not a constant.
        var inputs = _graph.Input.Select(input => input.Name).ToHashSet(StringComparer.Ordinal);
        _constants = _graph.Initializer.Where(tensor => !inputs.Contains(tensor.Name))
            .GroupBy(tensor => tensor.Name, StringComparer.Ordinal)
            .ToDictionary(group => group.Key, group => group.Last(), StringComparer.Ordinal);
    }

    public TransformOutcome Run(CancellationToken cancellationToken)
    {
        var total = _graph.Node.Count;
        var rewritten = new List<NodeProto>(total);
        foreach (var node in _graph.Node)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var replacement = !node.IsDefaultDomain() ? null : node.OpType switch
            {
                "MatMul" => MatMul(node),
                "Gemm" => Gemm(node),
                "Gather" => Gather(node),
                "Conv" or "ConvTranspose" => Keep(node, "convolutions are not quantised"),
                "LSTM" or "GRU" or "RNN" => Keep(node, "recurrent weights are not quantised"),
                _ => null,
            };
            if (replacement is null)
            {
                rewritten.Add(node);
                continue;
            }

            rewritten.AddRange(replacement);
            _changed[node.OpType] = _changed.GetValueOrDefault(node.OpType) + 1;
        }

        _graph.Node.Clear();
        _graph.Node.AddRange(rewritten);
        RemoveUnreadWeights();
        if (_kernel == Int8MatMulKernel.DynamicQuantizeMatMul && (_changed.ContainsKey("MatMul") || _changed.ContainsKey("Gemm")))
        {
            OnnxNodes.EnsureOpset(_model, OnnxNodes.MicrosoftDomain, 1);
        }

        return new TransformOutcome(_changed.Values.Sum(), total, Notes());
    }

    private List<string> Notes()
    {
        var notes = new List<string>();
        if (_changed.Count > 0)
        {
            var form = _kernel == Int8MatMulKernel.DynamicQuantizeMatMul ? "com.microsoft DynamicQuantizeMatMul" : "DynamicQuantizeLinear + MatMulInteger";
            var matmuls = _changed.ContainsKey("MatMul") || _changed.ContainsKey("Gemm") ? $" (MatMul/Gemm as {form})" : "";
            notes.Add(string.Join(", ", _changed.Select(pair => $"{pair.Value} {pair.Key}")) + " quantised to int8" + matmuls);
            if (_sevenBitWeights && matmuls.Length > 0)
            {
                notes.Add("MatMul/Gemm weights use 7 bits (±63), for a CPU without VNNI, where a full-range int8 dot product can saturate");
            }
        }
        else
        {
            notes.Add("no MatMul, Gemm or Gather reads a constant 2-D FP32 weight");
        }

        notes.AddRange(_kept.Select(pair => $"{pair.Value} {pair.Key}"));
        return notes;
    }

    private List<NodeProto>? Keep(NodeProto node, string reason)
    {
        var key = $"{node.OpType} kept FP32 ({reason})";
        _kept[key] = _kept.GetValueOrDefault(key) + 1;
        return null;
    }

    /// <summary>The constant 2-D FP32 weight named <paramref name="name"/>, or null with the reason it is not one.</summary>
    private (TensorProto? Weight, string? Reason) Weight(string name)
    {
        if (!_constants.TryGetValue(name, out var tensor))
        {
            return (null, "weight not a constant initializer");
        }

        if (tensor.DataType != OnnxTensors.Float || tensor.Dims.Count != 2 || tensor.Dims[0] <= 0 || tensor.Dims[1] <= 0)
        {
            return (null, "weight not a non-empty 2-D FP32 tensor");
        }

        return (tensor, null);
    }

    /// <summary>Drops the FP32 copy of every weight that was quantised and is no longer read anywhere.</summary>
    private void RemoveUnreadWeights()
    {
        var read = OnnxGraphWalk.GraphAndSubgraphs(_graph).SelectMany(graph => graph.Node).SelectMany(node => node.Input)
            .Concat(_graph.Output.Select(output => output.Name))
            .ToHashSet(StringComparer.Ordinal);
        var unread = _touched.Where(name => !read.Contains(name)).ToHashSet(StringComparer.Ordinal);
        var initializers = _graph.Initializer.Where(tensor => !unread.Contains(tensor.Name)).ToList();
        _graph.Initializer.Clear();
        _graph.Initializer.AddRange(initializers);
        var valueInfo = _graph.ValueInfo.Where(value => !unread.Contains(value.Name)).ToList();
        _graph.ValueInfo.Clear();
        _graph.ValueInfo.AddRange(valueInfo);
    }

    private sealed record QuantizedWeight(string Values, string Scales, string ZeroPoints);
}
