using MaaS.Core.Optimization;
using MaaS.Core.Optimization.Onnx;

namespace MaaS.Core.Tests.Optimization;

/// <summary>Models built in the test from the ONNX proto classes, with seeded weights.</summary>
internal static class TestGraphs
{
    public const int Width = 512;
    public const int Vocabulary = 1000;

    /// <summary>
    /// tokens INT64 [b, s] -> Gather over a [1000, 512] table -> 3 x (MatMul 512x512 + Relu) -> Gemm (transB, bias)
    /// -> logits FP32 [b*s, 64]; the first MatMul's weight is read again by a fourth MatMul whose output is "side".
    /// With <paramref name="readW2InFp32"/>, a ReduceSum also reads the second weight (output "w2_total").
    /// </summary>
    public static ModelProto MatMulHeavy(bool readW2InFp32 = false, int seed = 7)
    {
        var random = new Random(seed);
        var graph = new GraphProto { Name = "matmul_heavy" };
        graph.Input.Add(Value("tokens", OnnxTensors.Int64, "b", "s"));
        graph.Output.Add(Value("logits", OnnxTensors.Float, "n", 64));
        graph.Output.Add(Value("side", OnnxTensors.Float, "b", "s", Width));
        graph.Initializer.Add(Weights("embedding", random, Vocabulary, Width));
        graph.Node.Add(OnnxNodes.Node("Gather", "embed", ["embedding", "tokens"], ["h0"]));
        for (var i = 1; i <= 3; i++)
        {
            graph.Initializer.Add(Weights($"w{i}", random, Width, Width, 1f / MathF.Sqrt(Width)));
            graph.Node.Add(OnnxNodes.Node("MatMul", $"matmul{i}", [$"h{i - 1}", $"w{i}"], [$"m{i}"]));
            graph.Node.Add(OnnxNodes.Node("Relu", $"relu{i}", [$"m{i}"], [$"h{i}"]));
        }

        graph.Node.Add(OnnxNodes.Node("MatMul", "shared", ["h0", "w1"], ["side"]));
        if (readW2InFp32)
        {
            graph.Output.Add(Value("w2_total", OnnxTensors.Float));
            graph.Node.Add(OnnxNodes.Node("ReduceSum", "reads_w2", ["w2"], ["w2_total"]).WithInt("keepdims", 0));
        }
        graph.Initializer.Add(OnnxTensors.Make<long>("flat", OnnxTensors.Int64, [2], [-1L, Width]));
        graph.Node.Add(OnnxNodes.Node("Reshape", "flatten", ["h3", "flat"], ["h3_2d"]));
        graph.Initializer.Add(Weights("head", random, 64, Width, 1f / MathF.Sqrt(Width)));
        graph.Initializer.Add(Weights("head_bias", random, 64));
        graph.Node.Add(OnnxNodes.Node("Gemm", "gemm", ["h3_2d", "head", "head_bias"], ["logits"]).WithInt("transB", 1));
        return Model(graph);
    }

    /// <summary>x FP32 [b, 4] -> Relu(x) + 1 -> y: nothing int8 can change.</summary>
    public static ModelProto NoMatMul()
    {
        var graph = new GraphProto { Name = "plain" };
        graph.Input.Add(Value("x", OnnxTensors.Float, "b", 4));
        graph.Output.Add(Value("y", OnnxTensors.Float, "b", 4));
        graph.Initializer.Add(OnnxTensors.Make<float>("one", OnnxTensors.Float, [], [1f]));
        graph.Node.Add(OnnxNodes.Node("Relu", "relu", ["x"], ["r"]));
        graph.Node.Add(OnnxNodes.Node("Add", "add", ["r", "one"], ["y"]));
        return Model(graph);
    }

    public static ModelProto Model(GraphProto graph)
    {
        var model = new ModelProto { IrVersion = 8, ProducerName = "maas-tests", Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 17 });
        return model;
    }

    public static ValueInfoProto Value(string name, int elementType, params object[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (var dim in dims)
        {
            shape.Dim.Add(dim is string symbol ? new TensorShapeProto.Types.Dimension { DimParam = symbol } : new TensorShapeProto.Types.Dimension { DimValue = Convert.ToInt64(dim, System.Globalization.CultureInfo.InvariantCulture) });
        }

        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = elementType, Shape = shape } } };
    }

    public static TensorProto Weights(string name, Random random, params long[] dims) => Weights(name, random, dims, 1f);

    private static TensorProto Weights(string name, Random random, long rows, long columns, float scale) =>
        Weights(name, random, [rows, columns], scale);

    private static TensorProto Weights(string name, Random random, long[] dims, float scale)
    {
        var count = (int)dims.Aggregate(1L, (a, b) => a * b);
        var values = Enumerable.Range(0, count).Select(_ => (float)(random.NextDouble() * 2 - 1) * scale).ToArray();
        return OnnxTensors.Make<float>(name, OnnxTensors.Float, dims, values);
    }

    public static void Save(ModelProto model, string path) => File.WriteAllBytes(path, Google.Protobuf.MessageExtensions.ToByteArray(model));
}
