using MaaS.Core.Optimization.Onnx;

namespace MaaS.Core.Optimization;

/// <summary>
/// One pass of <see cref="Fp16Transform"/> over a model's main graph. Each node that touches an FP32 value either
/// computes in FP16 (its FP32 inputs read through FP16 copies, its FP32 outputs become FP16) or is kept in FP32 (its
/// inputs cast back). Constant, ConstantOfShape and Cast-to-FLOAT follow their consumers, so a value that only feeds
/// FP32 compute is never rounded to FP16 on the way. Graph inputs and outputs, and values a subgraph reads by name,
/// keep their name and declared type, with a Cast at the edge.
/// </summary>
internal sealed partial class Fp16Rewriter
{
    /// <summary>Operators whose ONNX type constraints have no FP16 (or whose dtype is their own business): kept FP32.</summary>
    private static readonly HashSet<string> Fp32Operators = new(StringComparer.Ordinal)
    {
        "Range", "RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike", "Multinomial", "Bernoulli",
        "NonMaxSuppression", "Celu", "EyeLike",
    };

    private readonly ModelProto _model;
    private readonly GraphProto _graph;
    private readonly IReadOnlySet<string> _keepFp32;
    private readonly OnnxNames _names;
    private readonly Dictionary<string, int> _types;
    private readonly HashSet<string> _pinned;
    private readonly Dictionary<string, TensorProto> _floatConstants;
    private readonly Dictionary<string, string> _fp16 = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _fp32 = new(StringComparer.Ordinal);
    private readonly SortedDictionary<string, int> _keptOperators = new(StringComparer.Ordinal);
    private int _casts;
    private int _clamped;
    private int _convertedTensors;

    public Fp16Rewriter(ModelProto model, IReadOnlySet<string> keepFp32)
    {
        _model = model;
        _graph = model.Graph;
        _keepFp32 = keepFp32;
        _names = new OnnxNames(model);
        _types = OnnxTypes.Infer(_graph);
        _pinned = _graph.Output.Select(output => output.Name)
            .Concat(_graph.Node.SelectMany(OnnxGraphWalk.Subgraphs).SelectMany(OnnxGraphWalk.GraphAndSubgraphs)
                .SelectMany(graph => graph.Node).SelectMany(node => node.Input))
            .ToHashSet(StringComparer.Ordinal);
        var inputs = _graph.Input.Select(input => input.Name).ToHashSet(StringComparer.Ordinal);
        _floatConstants = _graph.Initializer.Where(tensor => tensor.DataType == OnnxTensors.Float && !inputs.Contains(tensor.Name))
            .GroupBy(tensor => tensor.Name, StringComparer.Ordinal)
            .ToDictionary(group => group.Key, group => group.Last(), StringComparer.Ordinal);
    }

    public TransformOutcome Run(CancellationToken cancellationToken)
    {
        if (!_types.ContainsValue(OnnxTensors.Float) && !OnnxGraphWalk.Tensors(_model).Any(tensor => tensor.DataType == OnnxTensors.Float))
        {
            throw new NothingToOptimizeException("nothing to convert: the model has no FP32 tensor");
        }

        var nodes = _graph.Node.ToList();
        var modes = Decide(nodes);
        foreach (var input in _graph.Input.Where(input => IsFloat(input.Name)))
        {
            _fp32[input.Name] = input.Name;
        }

        foreach (var name in _floatConstants.Keys)
        {
            _fp32[name] = name;
        }

        var rewritten = new List<NodeProto>(nodes.Count);
        var changed = 0;
        for (var i = 0; i < nodes.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            switch (modes[i])
            {
                case Precision.Fp16:
                    Fp16Node(nodes[i], rewritten);
                    changed++;
                    break;
                case Precision.Fp32:
                    Fp32Node(nodes[i], rewritten);
                    break;
                default:
                    rewritten.Add(nodes[i]);
                    break;
            }
        }

        if (changed == 0)
        {
            throw new NothingToOptimizeException("nothing to convert: no node that computes in FP32 can run in FP16");
        }

        _graph.Node.Clear();
        _graph.Node.AddRange(rewritten);
        UpdateValueInfo();
        RemoveUnreadConstants();
        return new TransformOutcome(changed, nodes.Count, Notes(changed));
    }

    private List<string> Notes(int changed)
    {
        var notes = new List<string>
        {
            $"{changed} nodes compute in FP16; {_convertedTensors} FP32 weights and constants stored as FP16; {_casts} Cast nodes added at FP32 edges (graph inputs and outputs keep their types)",
        };
        notes.AddRange(_keptOperators.Select(pair => $"{pair.Value} {pair.Key} kept FP32"));
        if (_clamped > 0)
        {
            notes.Add($"{_clamped} weight values beyond the FP16 range clamped to ±65504");
        }

        return notes;
    }

    private bool IsFloat(string name) => name.Length > 0 && _types.TryGetValue(name, out var type) && type == OnnxTensors.Float;

    /// <summary>FP32 inputs the operator's type constraints require whatever its other inputs are.</summary>
    private static bool IsFp32Slot(NodeProto node, int input) => (node.OpType, input) is ("Resize", 2) or ("Upsample", 1);

    private enum Precision
    {
        Untouched,
        Fp16,
        Fp32,
    }
}
