using MaaS.Core.Optimization.Onnx;

namespace MaaS.Core.Optimization;

/// <summary>
/// The element type of every tensor value of a graph, as far as it can be told without ONNX shape inference: declared
/// types (inputs, outputs, value_info, initializers) first, then per-operator rules in node order. A value whose type
/// cannot be told is absent; callers treat it as "not FP32" and leave it alone.
/// </summary>
internal static class OnnxTypes
{
    private const int Bool = (int)TensorProto.Types.DataType.Bool;

    public static Dictionary<string, int> Infer(GraphProto graph)
    {
        var types = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var value in graph.Input.Concat(graph.Output).Concat(graph.ValueInfo))
        {
            if (value.Type?.TensorType is { HasElemType: true } tensor)
            {
                types[value.Name] = tensor.ElemType;
            }
        }

        foreach (var tensor in graph.Initializer)
        {
            types.TryAdd(tensor.Name, tensor.DataType);
        }

        foreach (var node in graph.Node)
        {
            for (var i = 0; i < node.Output.Count; i++)
            {
                if (node.Output[i].Length > 0 && !types.ContainsKey(node.Output[i]) && Output(node, i, types) is { } type)
                {
                    types[node.Output[i]] = type;
                }
            }
        }

        return types;
    }

    private static int? Output(NodeProto node, int index, Dictionary<string, int> types)
    {
        int? Input(int i) => i < node.Input.Count && types.TryGetValue(node.Input[i], out var type) ? type : null;
        int? FirstInput() => node.Input.Select(name => types.TryGetValue(name, out var type) ? type : (int?)null).FirstOrDefault(type => type is not null);
        int? Dtype(int? fallback) => node.Attribute("dtype") is { } dtype ? (int)dtype.I : fallback;

        if (!node.IsDefaultDomain())
        {
            return null;
        }

        return node.OpType switch
        {
            "Cast" => node.Attribute("to") is { } to ? (int)to.I : null,
            "CastLike" => Input(1),
            "Shape" or "Size" or "NonZero" or "ArgMax" or "ArgMin" or "NonMaxSuppression" => OnnxTensors.Int64,
            "TopK" or "MaxPool" => index == 1 ? OnnxTensors.Int64 : Input(0),
            "Unique" => index == 0 ? Input(0) : OnnxTensors.Int64,
            "Dropout" => index == 1 ? Bool : Input(0),
            "Equal" or "Less" or "Greater" or "LessOrEqual" or "GreaterOrEqual" or "Not" or "And" or "Or" or "Xor"
                or "IsNaN" or "IsInf" => Bool,
            "Constant" => ConstantType(node),
            "ConstantOfShape" => node.Attribute("value")?.T?.DataType ?? OnnxTensors.Float,
            "EyeLike" or "RandomNormalLike" or "RandomUniformLike" or "Bernoulli" => Dtype(Input(0)),
            "RandomNormal" or "RandomUniform" => Dtype(OnnxTensors.Float),
            "Multinomial" => Dtype(OnnxTensors.Int32),
            "Where" => Input(1),
            "OneHot" => Input(2),
            "DynamicQuantizeLinear" => index == 0 ? (int)TensorProto.Types.DataType.Uint8 : index == 1 ? OnnxTensors.Float : (int)TensorProto.Types.DataType.Uint8,
            "MatMulInteger" or "ConvInteger" => OnnxTensors.Int32,
            "DequantizeLinear" => Input(1),
            "QuantizeLinear" => Input(2) ?? (int)TensorProto.Types.DataType.Uint8,
            "If" => SubgraphOutput(node, "then_branch", index),
            "Loop" => SubgraphOutput(node, "body", index + 1),
            "Scan" => SubgraphOutput(node, "body", index),
            "SequenceConstruct" or "SequenceEmpty" or "SequenceInsert" or "SequenceErase" or "SplitToSequence"
                or "SequenceAt" or "ConcatFromSequence" or "SequenceLength" or "Optional" or "OptionalGetElement"
                or "OptionalHasElement" => null,
            _ => Input(0) ?? FirstInput(),
        };
    }

    private static int? ConstantType(NodeProto node)
    {
        foreach (var attribute in node.Attribute)
        {
            switch (attribute.Name)
            {
                case "value":
                    return attribute.T?.DataType;
                case "value_float" or "value_floats":
                    return OnnxTensors.Float;
                case "value_int" or "value_ints":
                    return OnnxTensors.Int64;
                case "value_string" or "value_strings":
                    return (int)TensorProto.Types.DataType.String;
            }
        }

        return null;
    }

    private static int? SubgraphOutput(NodeProto node, string attribute, int index) =>
        node.Attribute(attribute)?.G is { } graph && index < graph.Output.Count && graph.Output[index].Type?.TensorType is { HasElemType: true } tensor
            ? tensor.ElemType
            : null;
}
