using MaaS.Core.Optimization.Onnx;

namespace MaaS.Core.Optimization;

internal sealed partial class Int8Rewriter
{
    private List<NodeProto>? MatMul(NodeProto node)
    {
        if (node.Input.Count != 2 || node.Output.Count != 1)
        {
            return Keep(node, "unexpected inputs");
        }

        var (weight, reason) = Weight(node.Input[1]);
        if (weight is null || !KernelAvailable())
        {
            return Keep(node, reason ?? "MatMulInteger needs opset 10");
        }

        var quantized = QuantizeColumns(weight, transpose: false, alpha: 1f);
        if (quantized is null)
        {
            return Keep(node, "weight has non-finite values");
        }

        var nodes = new List<NodeProto>();
        EmitMatMul(nodes, Stem(node), node.Input[0], quantized, bias: null, vectorBias: false, node.Output[0]);
        return nodes;
    }

    private List<NodeProto>? Gemm(NodeProto node)
    {
        if (node.Input.Count < 2 || node.Output.Count != 1)
        {
            return Keep(node, "unexpected inputs");
        }

        var (weight, reason) = Weight(node.Input[1]);
        if (weight is null || !KernelAvailable())
        {
            return Keep(node, reason ?? "MatMulInteger needs opset 10");
        }

        var alpha = node.FloatAttribute("alpha", 1f);
        var beta = node.FloatAttribute("beta", 1f);
        var quantized = QuantizeColumns(weight, transpose: node.IntAttribute("transB", 0) != 0, alpha);
        if (quantized is null)
        {
            return Keep(node, "weight has non-finite values or alpha is not finite");
        }

        var stem = Stem(node);
        var nodes = new List<NodeProto>();
        var a = node.Input[0];
        if (node.IntAttribute("transA", 0) != 0)
        {
            var transposed = _names.Fresh(stem + "_A_T");
            nodes.Add(OnnxNodes.Node("Transpose", _names.Fresh(stem + "_transpose_A"), [a], [transposed]).WithInts("perm", 1, 0));
            a = transposed;
        }

        var c = node.Input.Count > 2 && node.Input[2].Length > 0 && beta != 0f ? node.Input[2] : null;
        var (bias, vector) = c is null ? (null, false) : Bias(nodes, stem, c, beta, weight.Dims[node.IntAttribute("transB", 0) != 0 ? 0 : 1]);
        EmitMatMul(nodes, stem, a, quantized, bias, vector, node.Output[0]);
        return nodes;
    }

    private List<NodeProto>? Gather(NodeProto node)
    {
        if (node.Input.Count != 2 || node.Output.Count != 1)
        {
            return Keep(node, "unexpected inputs");
        }

        // A Gather over computed data (shapes, activations) is not a table lookup: not worth a note.
        var (table, reason) = Weight(node.Input[0]);
        if (table is null)
        {
            return _constants.ContainsKey(node.Input[0]) ? Keep(node, reason!.Replace("weight", "table", StringComparison.Ordinal)) : null;
        }

        if (node.IntAttribute("axis", 0) is not (0 or -2))
        {
            return Keep(node, "gathers along an axis other than 0");
        }

        var quantized = QuantizeRows(table);
        if (quantized is null)
        {
            return Keep(node, "table has non-finite values");
        }

        // Gather the int8 rows and their scales with the same indices, then dequantise only what was gathered.
        var stem = Stem(node);
        var rows = _names.Fresh(stem + "_rows_int8");
        var scales = _names.Fresh(stem + "_row_scales");
        var rowsFloat = _names.Fresh(stem + "_rows_float");
        return
        [
            OnnxNodes.Node("Gather", _names.Fresh(stem + "_gather_int8"), [quantized.Values, node.Input[1]], [rows]).WithInt("axis", 0),
            OnnxNodes.Node("Gather", _names.Fresh(stem + "_gather_scales"), [quantized.Scales, node.Input[1]], [scales]).WithInt("axis", 0),
            OnnxNodes.Node("Cast", _names.Fresh(stem + "_cast"), [rows], [rowsFloat]).WithInt("to", OnnxTensors.Float),
            OnnxNodes.Node("Mul", _names.Fresh(stem + "_dequantize"), [rowsFloat, scales], [node.Output[0]]),
        ];
    }

    /// <summary>
    /// Y = A x W_q * scale (+ bias), in the configured kernel's operators. The fused kernel takes a bias of N values as
    /// an input; any other bias is added after it.
    /// </summary>
    private void EmitMatMul(List<NodeProto> nodes, string stem, string a, QuantizedWeight weight, string? bias, bool vectorBias, string output)
    {
        if (_kernel == Int8MatMulKernel.DynamicQuantizeMatMul)
        {
            var fused = bias is not null && vectorBias;
            var result = bias is null || fused ? output : _names.Fresh(stem + "_product");
            string[] inputs = fused
                ? [a, weight.Values, weight.Scales, weight.ZeroPoints, bias!]
                : [a, weight.Values, weight.Scales, weight.ZeroPoints];
            nodes.Add(OnnxNodes.Node("DynamicQuantizeMatMul", _names.Fresh(stem + "_int8"), inputs, [result], OnnxNodes.MicrosoftDomain));
            if (result != output)
            {
                nodes.Add(OnnxNodes.Node("Add", _names.Fresh(stem + "_bias"), [result, bias!], [output]));
            }

            return;
        }

        var (aQuantized, aScale, aZero) = (_names.Fresh(stem + "_A_uint8"), _names.Fresh(stem + "_A_scale"), _names.Fresh(stem + "_A_zero_point"));
        var (accumulator, accumulatorFloat) = (_names.Fresh(stem + "_int32"), _names.Fresh(stem + "_int32_float"));
        var scale = _names.Fresh(stem + "_scale");
        var product = bias is null ? output : _names.Fresh(stem + "_product");
        nodes.Add(OnnxNodes.Node("DynamicQuantizeLinear", _names.Fresh(stem + "_quantize_A"), [a], [aQuantized, aScale, aZero]));
        nodes.Add(OnnxNodes.Node("MatMulInteger", _names.Fresh(stem + "_matmul_int8"), [aQuantized, weight.Values, aZero, weight.ZeroPoints], [accumulator]));
        nodes.Add(OnnxNodes.Node("Cast", _names.Fresh(stem + "_cast"), [accumulator], [accumulatorFloat]).WithInt("to", OnnxTensors.Float));
        nodes.Add(OnnxNodes.Node("Mul", _names.Fresh(stem + "_scales"), [aScale, weight.Scales], [scale]));
        nodes.Add(OnnxNodes.Node("Mul", _names.Fresh(stem + "_dequantize"), [accumulatorFloat, scale], [product]));
        if (bias is not null)
        {
            nodes.Add(OnnxNodes.Node("Add", _names.Fresh(stem + "_bias"), [product, bias], [output]));
        }
    }

    /// <summary>
    /// Gemm's beta * C as one bias: a constant C of N values is folded into a new [N] initializer (Vector: the fused kernel
    /// takes it as an input); anything else (a computed or broadcast C) is scaled at run time when beta is not 1.
    /// </summary>
    private (string Name, bool Vector) Bias(List<NodeProto> nodes, string stem, string c, float beta, long columns)
    {
        var constant = _constants.GetValueOrDefault(c);
        if (constant is { DataType: OnnxTensors.Float } && constant.Dims.Count is 1 or 2 && constant.Dims[^1] == columns
            && OnnxTensors.ElementCount(constant) == columns)
        {
            var values = OnnxTensors.ReadFloats(constant).Select(value => value * beta).ToArray();
            var name = _names.Fresh(stem + "_bias");
            _graph.Initializer.Add(OnnxTensors.Make<float>(name, OnnxTensors.Float, [values.Length], values));
            _touched.Add(c);
            return (name, true);
        }

        if (beta == 1f)
        {
            return (c, false);
        }

        var betaName = _names.Fresh(stem + "_beta");
        var scaled = _names.Fresh(stem + "_C_scaled");
        _graph.Initializer.Add(OnnxTensors.Make<float>(betaName, OnnxTensors.Float, [], [beta]));
        nodes.Add(OnnxNodes.Node("Mul", _names.Fresh(stem + "_scale_C"), [c, betaName], [scaled]));
        return (scaled, false);
    }

    private bool KernelAvailable() => _kernel != Int8MatMulKernel.MatMulInteger || OnnxNodes.OpsetVersion(_model, "") >= 10;

    private static string Stem(NodeProto node) => node.Name.Length > 0 ? node.Name : node.Output[0];
}
