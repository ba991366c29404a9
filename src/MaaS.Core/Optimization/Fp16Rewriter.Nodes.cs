using MaaS.Core.Optimization.Onnx;

namespace MaaS.Core.Optimization;

internal sealed partial class Fp16Rewriter
{
    private Precision[] Decide(List<NodeProto> nodes)
    {
        var modes = new Precision[nodes.Count];
        var consumers = new Dictionary<string, List<(int Node, int Input)>>(StringComparer.Ordinal);
        for (var i = 0; i < nodes.Count; i++)
        {
            for (var j = 0; j < nodes[i].Input.Count; j++)
            {
                if (!consumers.TryGetValue(nodes[i].Input[j], out var list))
                {
                    consumers[nodes[i].Input[j]] = list = [];
                }

                list.Add((i, j));
            }
        }

        // Backwards, so the consumers of a Constant or Cast are decided before it.
        for (var i = nodes.Count - 1; i >= 0; i--)
        {
            var node = nodes[i];
            if (!node.Input.Concat(node.Output).Any(IsFloat))
            {
                modes[i] = Precision.Untouched;
            }
            else if (!node.IsDefaultDomain() || OnnxGraphWalk.Subgraphs(node).Any() || Fp32Operators.Contains(node.OpType) || _keepFp32.Contains(node.Name))
            {
                modes[i] = Precision.Fp32;
                var key = node.IsDefaultDomain() ? node.OpType : $"{node.Domain}.{node.OpType}";
                _keptOperators[key] = _keptOperators.GetValueOrDefault(key) + 1;
            }
            else if (FollowsConsumers(node))
            {
                var wanted = node.Output.Where(IsFloat).SelectMany(output => consumers.GetValueOrDefault(output) ?? [])
                    .Any(use => modes[use.Node] == Precision.Fp16 && !IsFp32Slot(nodes[use.Node], use.Input));
                modes[i] = wanted ? Precision.Fp16 : Precision.Fp32;
            }
            else
            {
                modes[i] = Precision.Fp16;
            }
        }

        return modes;
    }

    private static bool FollowsConsumers(NodeProto node) => node.OpType switch
    {
        "Constant" or "ConstantOfShape" => true,
        "Cast" => node.IntAttribute("to", 0) == OnnxTensors.Float,
        _ => false,
    };

    private void Fp32Node(NodeProto node, List<NodeProto> rewritten)
    {
        for (var i = 0; i < node.Input.Count; i++)
        {
            if (IsFloat(node.Input[i]))
            {
                node.Input[i] = Materialize(node.Input[i], fp16: false, rewritten);
            }
        }

        rewritten.Add(node);
        foreach (var output in node.Output.Where(IsFloat))
        {
            _fp32[output] = output;
        }
    }

    private void Fp16Node(NodeProto node, List<NodeProto> rewritten)
    {
        for (var i = 0; i < node.Input.Count; i++)
        {
            var input = node.Input[i];
            if (!IsFloat(input))
            {
                continue;
            }

            // A Cast reads whichever copy exists: casting from FP32 directly beats adding a Cast to FP16 before it.
            node.Input[i] = node.OpType == "Cast" && !_fp16.ContainsKey(input) && _fp32.TryGetValue(input, out var existing)
                ? existing
                : Materialize(input, fp16: !IsFp32Slot(node, i), rewritten);
        }

        ConvertAttributes(node);
        rewritten.Add(node);
        for (var j = 0; j < node.Output.Count; j++)
        {
            var output = node.Output[j];
            if (!IsFloat(output))
            {
                continue;
            }

            if (!_pinned.Contains(output))
            {
                _fp16[output] = output;
                continue;
            }

            // A graph output (or a value a subgraph reads) keeps its name and FP32 type: compute into a new name, cast back.
            var half = _names.Fresh(output + "_fp16");
            node.Output[j] = half;
            _fp16[output] = half;
            _fp32[output] = output;
            rewritten.Add(CastNode(half, output, OnnxTensors.Float));
        }
    }

    private void ConvertAttributes(NodeProto node)
    {
        if (node.OpType == "ConstantOfShape" && node.Attribute("value") is null)
        {
            // Without a value, ConstantOfShape makes FP32 zeros: say FP16 zeros instead.
            node.Attribute.Add(new AttributeProto
            {
                Name = "value",
                Type = AttributeProto.Types.AttributeType.Tensor,
                T = OnnxTensors.Make<Half>("", OnnxTensors.Float16, [1], [Half.Zero]),
            });
        }

        foreach (var attribute in node.Attribute)
        {
            switch (node.OpType, attribute.Name)
            {
                case ("Cast", "to") when attribute.I == OnnxTensors.Float:
                    attribute.I = OnnxTensors.Float16;
                    break;
                case ("Constant" or "ConstantOfShape", "value") when attribute.T?.DataType == OnnxTensors.Float:
                    Convert(attribute.T);
                    break;
                case ("Constant", "value_float" or "value_floats"):
                    var values = attribute.Name == "value_float" ? [attribute.F] : attribute.Floats.ToArray();
                    long[] dims = attribute.Name == "value_float" ? [] : [values.Length];
                    attribute.Name = "value";
                    attribute.Type = AttributeProto.Types.AttributeType.Tensor;
                    attribute.ClearF();
                    attribute.Floats.Clear();
                    attribute.T = OnnxTensors.Make<float>("", OnnxTensors.Float, dims, values);
                    Convert(attribute.T);
                    break;
            }
        }
    }

    /// <summary>The name of <paramref name="name"/>'s FP16 or FP32 copy, made on first use (a converted initializer or a Cast).</summary>
    private string Materialize(string name, bool fp16, List<NodeProto> rewritten)
    {
        var (wanted, other) = fp16 ? (_fp16, _fp32) : (_fp32, _fp16);
        if (wanted.TryGetValue(name, out var existing))
        {
            return existing;
        }

        if (fp16 && _floatConstants.TryGetValue(name, out var constant))
        {
            var copy = constant.Clone();
            copy.Name = _names.Fresh(name + "_fp16");
            Convert(copy);
            _graph.Initializer.Add(copy);
            return wanted[name] = copy.Name;
        }

        if (!other.TryGetValue(name, out var source))
        {
            return name;
        }

        var cast = _names.Fresh(name + (fp16 ? "_fp16" : "_fp32"));
        rewritten.Add(CastNode(source, cast, fp16 ? OnnxTensors.Float16 : OnnxTensors.Float));
        return wanted[name] = cast;
    }

    private NodeProto CastNode(string input, string output, int to)
    {
        _casts++;
        return OnnxNodes.Node("Cast", _names.Fresh(output + "_cast"), [input], [output]).WithInt("to", to);
    }

    private void Convert(TensorProto tensor)
    {
        _clamped += OnnxTensors.ConvertToFloat16(tensor);
        _convertedTensors++;
    }

    private void UpdateValueInfo()
    {
        foreach (var value in _graph.ValueInfo)
        {
            if (value.Type?.TensorType is { ElemType: OnnxTensors.Float } tensor && _fp16.TryGetValue(value.Name, out var half) && half == value.Name)
            {
                tensor.ElemType = OnnxTensors.Float16;
            }
        }
    }

    /// <summary>Drops FP32 initializers that only FP16 compute read (each now has an FP16 copy).</summary>
    private void RemoveUnreadConstants()
    {
        var read = OnnxGraphWalk.GraphAndSubgraphs(_graph).SelectMany(graph => graph.Node).SelectMany(node => node.Input)
            .Concat(_graph.Output.Select(output => output.Name))
            .ToHashSet(StringComparer.Ordinal);
        var kept = _graph.Initializer.Where(tensor => !_floatConstants.ContainsKey(tensor.Name) || read.Contains(tensor.Name)).ToList();
        _graph.Initializer.Clear();
        _graph.Initializer.AddRange(kept);
    }
}
