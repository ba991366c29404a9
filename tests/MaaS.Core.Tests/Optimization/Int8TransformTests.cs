using MaaS.Core.Optimization;
using MaaS.Core.Optimization.Onnx;
using MaaS.Core.Tests.Infrastructure;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace MaaS.Core.Tests.Optimization;

public sealed class Int8TransformTests
{
    [Theory]
    [InlineData(Int8MatMulKernel.DynamicQuantizeMatMul, false)]
    [InlineData(Int8MatMulKernel.MatMulInteger, false)]
    [InlineData(Int8MatMulKernel.DynamicQuantizeMatMul, true)]
    [InlineData(Int8MatMulKernel.MatMulInteger, true)]
    public void MatMulHeavyModelShrinksAndKeepsItsOutputs(Int8MatMulKernel kernel, bool sevenBitWeights)
    {
        using var directory = new TempDirectory();
        var source = Path.Combine(directory.Path, "source.onnx");
        var derived = Path.Combine(directory.Path, "derived.onnx");
        TestGraphs.Save(TestGraphs.MatMulHeavy(), source);

        var outcome = new Int8Transform(kernel, sevenBitWeights).Apply(source, derived, CancellationToken.None);

        outcome.NodesChanged.Should().Be(6, "the Gather, four MatMul and the Gemm are quantised");
        outcome.Notes.Any(note => note.Contains("7 bits", StringComparison.Ordinal)).Should().Be(sevenBitWeights);
        outcome.NodesTotal.Should().Be(10);
        outcome.Notes[0].Should().Contain("1 Gather").And.Contain("1 Gemm").And.Contain("4 MatMul");
        new FileInfo(derived).Length.Should().BeLessThanOrEqualTo((long)(0.35 * new FileInfo(source).Length));

        var inputs = new List<TestInput> { new("tokens", TensorElementType.Int64, [2, 3], new long[] { 0, 17, 999, 5, 5, 431 }) };
        var expected = ModelRunner.Run(source, inputs);
        var actual = ModelRunner.Run(derived, inputs);
        OptimizationAssertions.SameSignature(expected, actual);
        OptimizationAssertions.MinRowCosine(expected["logits"], actual["logits"]).Should().BeGreaterThanOrEqualTo(0.99);
        OptimizationAssertions.MinRowCosine(expected["side"], actual["side"]).Should().BeGreaterThanOrEqualTo(0.99);
        OptimizationAssertions.RelativeMaxDiff(expected["logits"], actual["logits"]).Should().BeLessThan(0.05);

        var model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(derived));
        var names = model.Graph.Initializer.Select(tensor => tensor.Name).ToList();
        names.Should().NotContain(["w1", "w2", "w3", "head", "embedding"], "no FP32 copy is left once nothing reads it");
        names.Count(name => name.StartsWith("w1_int8", StringComparison.Ordinal)).Should().Be(1, "w1 is read by two MatMul but quantised once");
        var w1 = model.Graph.Initializer.Single(tensor => tensor.Name.StartsWith("w1_int8", StringComparison.Ordinal)).RawData.Span;
        ((int)w1.ToArray().Max(value => Math.Abs((sbyte)value))).Should().Be(sevenBitWeights ? 63 : 127, "each column's largest weight takes the top level");
        model.OpsetImport.Any(opset => opset.Domain == "com.microsoft").Should().Be(kernel == Int8MatMulKernel.DynamicQuantizeMatMul);
    }

    [Fact]
    public void WeightAlsoReadByAnUnchangedNodeKeepsItsFp32Copy()
    {
        using var directory = new TempDirectory();
        var (source, derived) = (Path.Combine(directory.Path, "source.onnx"), Path.Combine(directory.Path, "derived.onnx"));
        TestGraphs.Save(TestGraphs.MatMulHeavy(readW2InFp32: true), source);

        new Int8Transform().Apply(source, derived, CancellationToken.None).NodesChanged.Should().Be(6);

        var inputs = new List<TestInput> { new("tokens", TensorElementType.Int64, [1, 2], new long[] { 3, 4 }) };
        var expected = ModelRunner.Run(source, inputs);
        var actual = ModelRunner.Run(derived, inputs);
        actual["w2_total"].Values.Should().Equal(expected["w2_total"].Values, "the ReduceSum still reads the FP32 w2");
        OptimizationAssertions.MinRowCosine(expected["logits"], actual["logits"]).Should().BeGreaterThanOrEqualTo(0.99);
        var names = ModelProto.Parser.ParseFrom(File.ReadAllBytes(derived)).Graph.Initializer.Select(tensor => tensor.Name).ToList();
        names.Should().Contain("w2").And.Contain(name => name.StartsWith("w2_int8", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(new long[0])]
    [InlineData(new long[] { 4 })]
    [InlineData(new long[] { 2, 3, 2 })]
    public void GatherDequantisesTheGatheredRowsForIndicesOfAnyRank(long[] indexShape)
    {
        using var directory = new TempDirectory();
        var (source, derived) = (Path.Combine(directory.Path, "source.onnx"), Path.Combine(directory.Path, "derived.onnx"));
        var graph = new GraphProto { Name = "embedding" };
        graph.Input.Add(TestGraphs.Value("ids", OnnxTensors.Int64, indexShape.Cast<object>().ToArray()));
        graph.Output.Add(TestGraphs.Value("rows", OnnxTensors.Float));
        var table = TestGraphs.Weights("table", new Random(3), 50, 16);
        graph.Initializer.Add(table);
        graph.Node.Add(OnnxNodes.Node("Gather", "lookup", ["table", "ids"], ["rows"]));
        TestGraphs.Save(TestGraphs.Model(graph), source);

        new Int8Transform().Apply(source, derived, CancellationToken.None).NodesChanged.Should().Be(1);

        var count = (int)indexShape.Aggregate(1L, (a, b) => a * b);
        var ids = Enumerable.Range(0, count).Select(i => (long)((i * 17 + 3) % 50) - (i % 2 == 0 ? 0 : 50)).ToArray();
        var inputs = new List<TestInput> { new("ids", TensorElementType.Int64, indexShape, ids) };
        var expected = ModelRunner.Run(source, inputs)["rows"];
        var actual = ModelRunner.Run(derived, inputs)["rows"];
        actual.Shape.Should().Equal([.. indexShape, 16L]);
        var values = OnnxTensors.ReadFloats(table);
        for (var i = 0; i < count; i++)
        {
            var row = (int)((ids[i] + 50) % 50);
            var step = values.Skip(row * 16).Take(16).Max(Math.Abs) / 127.0;
            for (var d = 0; d < 16; d++)
            {
                actual.Values[i * 16 + d].Should().BeApproximately(expected.Values[i * 16 + d], step / 2 + 1e-6, "row {0} is dequantised with its own scale", row);
            }
        }
    }

    [Theory]
    [InlineData(0, 0, true)]
    [InlineData(1, 0, true)]
    [InlineData(0, 1, false)]
    [InlineData(1, 1, false)]
    public void GemmKeepsTransposesAlphaAndBeta(int transA, int transB, bool constantBias)
    {
        using var directory = new TempDirectory();
        var (source, derived) = (Path.Combine(directory.Path, "source.onnx"), Path.Combine(directory.Path, "derived.onnx"));
        var random = new Random(11);
        var graph = new GraphProto { Name = "gemm" };
        graph.Input.Add(TestGraphs.Value("a", OnnxTensors.Float, transA == 1 ? [64, 3] : [3, 64]));
        graph.Output.Add(TestGraphs.Value("y", OnnxTensors.Float, 3, 32));
        graph.Initializer.Add(TestGraphs.Weights("b", random, transB == 1 ? [32, 64] : [64, 32]));
        if (constantBias)
        {
            graph.Initializer.Add(TestGraphs.Weights("c", random, 1, 32));
        }
        else
        {
            graph.Input.Add(TestGraphs.Value("c", OnnxTensors.Float, 3, 32));
        }

        var gemm = OnnxNodes.Node("Gemm", "gemm", ["a", "b", "c"], ["y"]).WithInt("transA", transA).WithInt("transB", transB);
        gemm.Attribute.Add(new AttributeProto { Name = "alpha", Type = AttributeProto.Types.AttributeType.Float, F = -0.5f });
        gemm.Attribute.Add(new AttributeProto { Name = "beta", Type = AttributeProto.Types.AttributeType.Float, F = 2f });
        graph.Node.Add(gemm);
        TestGraphs.Save(TestGraphs.Model(graph), source);

        new Int8Transform().Apply(source, derived, CancellationToken.None).NodesChanged.Should().Be(1);

        var inputs = ModelRunner.InputsFor(source, seed: 5);
        var expected = ModelRunner.Run(source, inputs)["y"];
        var actual = ModelRunner.Run(derived, inputs)["y"];
        OptimizationAssertions.MinRowCosine(expected, actual).Should().BeGreaterThanOrEqualTo(0.99);
        OptimizationAssertions.RelativeMaxDiff(expected, actual).Should().BeLessThan(0.05);
    }

    [Theory]
    [InlineData("mlp")]
    [InlineData("cnn")]
    [InlineData("rnn")]
    [InlineData("transformer")]
    public void BundledModelsServeWithCloseOutputs(string name)
    {
        using var directory = new TempDirectory();
        var source = Path.Combine(RepositoryPaths.Models, name, "1", "model.onnx");
        var derived = Path.Combine(directory.Path, "model.onnx");

        var outcome = new Int8Transform().Apply(source, derived, CancellationToken.None);

        outcome.NodesChanged.Should().BePositive();
        var inputs = ModelRunner.InputsFor(source, seed: 1);
        var expected = ModelRunner.Run(source, inputs);
        var actual = ModelRunner.Run(derived, inputs);
        OptimizationAssertions.SameSignature(expected, actual);
        foreach (var (output, values) in expected)
        {
            OptimizationAssertions.MinRowCosine(values, actual[output]).Should().BeGreaterThanOrEqualTo(0.98, $"{name}.{output}: {string.Join("; ", outcome.Notes)}");
        }
    }

    [Fact]
    public void ZooEmbeddingModelQuantisesItsTable()
    {
        using var directory = new TempDirectory();
        var source = Path.Combine(RepositoryPaths.Zoo, "seq_mask", "1", "model.onnx");
        var derived = Path.Combine(directory.Path, "model.onnx");

        var outcome = new Int8Transform().Apply(source, derived, CancellationToken.None);

        outcome.Notes[0].Should().StartWith("1 Gather quantised");
        var inputs = ModelRunner.InputsFor(source, seed: 3);
        var expected = ModelRunner.Run(source, inputs);
        var actual = ModelRunner.Run(derived, inputs);
        OptimizationAssertions.SameSignature(expected, actual);
        OptimizationAssertions.MinRowCosine(expected["pooled"], actual["pooled"]).Should().BeGreaterThanOrEqualTo(0.999);
    }

    [Fact]
    public void ModelWithoutMatMulGemmOrGatherHasNothingToQuantise()
    {
        using var directory = new TempDirectory();
        var source = Path.Combine(directory.Path, "source.onnx");
        TestGraphs.Save(TestGraphs.NoMatMul(), source);

        var act = () => new Int8Transform().Apply(source, Path.Combine(directory.Path, "derived.onnx"), CancellationToken.None);

        act.Should().Throw<NothingToOptimizeException>().WithMessage("nothing to quantise*");
    }

    [Fact]
    public void MatMulOverAComputedWeightStaysFp32AndIsCounted()
    {
        using var directory = new TempDirectory();
        var source = Path.Combine(directory.Path, "source.onnx");
        var graph = new GraphProto { Name = "activations" };
        graph.Input.Add(TestGraphs.Value("a", OnnxTensors.Float, 2, 4));
        graph.Input.Add(TestGraphs.Value("b", OnnxTensors.Float, 4, 2));
        graph.Output.Add(TestGraphs.Value("y", OnnxTensors.Float, 2, 2));
        graph.Node.Add(OnnxNodes.Node("MatMul", "mm", ["a", "b"], ["y"]));
        TestGraphs.Save(TestGraphs.Model(graph), source);

        var act = () => new Int8Transform().Apply(source, Path.Combine(directory.Path, "derived.onnx"), CancellationToken.None);

        act.Should().Throw<NothingToOptimizeException>().WithMessage("*1 MatMul kept FP32 (weight not a constant initializer)*");
    }
}
