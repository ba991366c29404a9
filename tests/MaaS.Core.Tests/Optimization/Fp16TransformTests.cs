using MaaS.Core.Optimization;
using MaaS.Core.Optimization.Onnx;
using MaaS.Core.Tests.Infrastructure;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace MaaS.Core.Tests.Optimization;

public sealed class Fp16TransformTests
{
    [Theory]
    [InlineData("mlp")]
    [InlineData("cnn")]
    [InlineData("rnn")]
    [InlineData("transformer")]
    public void BundledModelsKeepTheirSignatureAndOutputs(string name)
    {
        using var directory = new TempDirectory();
        var source = Path.Combine(RepositoryPaths.Models, name, "1", "model.onnx");
        var derived = Path.Combine(directory.Path, "model.onnx");

        var outcome = new Fp16Transform().Apply(source, derived, CancellationToken.None);

        outcome.NodesChanged.Should().BePositive();
        AssertClose(source, derived, tolerance: 1e-2, string.Join("; ", outcome.Notes));
        HasFp32Initializer(derived).Should().BeFalse("every weight is stored as FP16");
    }

    [Fact]
    public void MatMulHeavyModelHalvesAndKeepsItsOutputs()
    {
        using var directory = new TempDirectory();
        var (source, derived) = (Path.Combine(directory.Path, "source.onnx"), Path.Combine(directory.Path, "derived.onnx"));
        TestGraphs.Save(TestGraphs.MatMulHeavy(), source);

        new Fp16Transform().Apply(source, derived, CancellationToken.None).NodesChanged.Should().Be(10);

        new FileInfo(derived).Length.Should().BeLessThanOrEqualTo((long)(0.52 * new FileInfo(source).Length));
        AssertClose(source, derived, tolerance: 1e-2, "");
    }

    [Theory]
    [InlineData("multi_io")]
    [InlineData("seq_mask")]
    [InlineData("scalar_out")]
    [InlineData("no_batch")]
    [InlineData("fp16")]
    public void ZooModelsKeepNonFloatAndFp16InputsAndOutputs(string name)
    {
        using var directory = new TempDirectory();
        var source = Path.Combine(RepositoryPaths.Zoo, name, "1", "model.onnx");
        var derived = Path.Combine(directory.Path, "model.onnx");

        new Fp16Transform().Apply(source, derived, CancellationToken.None).NodesChanged.Should().BePositive();

        var before = ModelProto.Parser.ParseFrom(File.ReadAllBytes(source)).Graph;
        var after = ModelProto.Parser.ParseFrom(File.ReadAllBytes(derived)).Graph;
        after.Input.Should().Equal(before.Input, "graph inputs keep their names and types");
        after.Output.Should().Equal(before.Output, "graph outputs keep their names and types");
        AssertClose(source, derived, tolerance: 1e-2, "");
    }

    [Fact]
    public void ModelWithoutFloatTensorsHasNothingToConvert()
    {
        using var directory = new TempDirectory();
        var source = Path.Combine(RepositoryPaths.Zoo, "int_types", "1", "model.onnx");

        var act = () => new Fp16Transform().Apply(source, Path.Combine(directory.Path, "model.onnx"), CancellationToken.None);

        act.Should().Throw<NothingToOptimizeException>().WithMessage("nothing to convert*");
    }

    [Fact]
    public void RangeStaysFp32AndOutOfRangeWeightsAreClamped()
    {
        using var directory = new TempDirectory();
        var (source, derived) = (Path.Combine(directory.Path, "source.onnx"), Path.Combine(directory.Path, "derived.onnx"));
        var graph = new GraphProto { Name = "range" };
        graph.Input.Add(TestGraphs.Value("x", OnnxTensors.Float, 4));
        graph.Output.Add(TestGraphs.Value("y", OnnxTensors.Float, 4));
        graph.Initializer.Add(OnnxTensors.Make<float>("start", OnnxTensors.Float, [], [0.1f]));
        graph.Initializer.Add(OnnxTensors.Make<float>("limit", OnnxTensors.Float, [], [4f]));
        graph.Initializer.Add(OnnxTensors.Make<float>("delta", OnnxTensors.Float, [], [1f]));
        graph.Initializer.Add(OnnxTensors.Make<float>("scale", OnnxTensors.Float, [4], [1e-3f, 2f, -1e6f, 0.5f]));
        graph.Node.Add(OnnxNodes.Node("Range", "range", ["start", "limit", "delta"], ["r"]));
        graph.Node.Add(OnnxNodes.Node("Add", "add", ["x", "r"], ["s"]));
        graph.Node.Add(OnnxNodes.Node("Mul", "mul", ["s", "scale"], ["m"]));
        graph.Node.Add(OnnxNodes.Node("Div", "div", ["m", "scale"], ["y"]));
        graph.ValueInfo.Add(TestGraphs.Value("r", OnnxTensors.Float, 4));
        graph.ValueInfo.Add(TestGraphs.Value("s", OnnxTensors.Float, 4));
        TestGraphs.Save(TestGraphs.Model(graph), source);

        var outcome = new Fp16Transform().Apply(source, derived, CancellationToken.None);

        var valueInfo = ModelProto.Parser.ParseFrom(File.ReadAllBytes(derived)).Graph.ValueInfo.ToDictionary(value => value.Name, value => value.Type.TensorType.ElemType);
        valueInfo["r"].Should().Be(OnnxTensors.Float, "Range computes in FP32");
        valueInfo["s"].Should().Be(OnnxTensors.Float16, "the Add after it computes in FP16");

        outcome.Notes.Should().Contain(note => note.Contains("1 Range kept FP32", StringComparison.Ordinal))
            .And.Contain(note => note.Contains("1 weight values beyond the FP16 range clamped", StringComparison.Ordinal));
        var inputs = new List<TestInput> { new("x", TensorElementType.Float, [4], new[] { 1f, 2f, 3f, 4f }) };
        var expected = ModelRunner.Run(source, inputs)["y"];
        var actual = ModelRunner.Run(derived, inputs)["y"];
        actual.Type.Should().Be(TensorElementType.Float);
        actual.Values.Should().Equal(expected.Values, (a, b) => Math.Abs(a - b) <= 1e-2 * Math.Max(1, Math.Abs(b)));
    }

    [Fact]
    public void NodeTheRuntimeRefusesInFp16IsKeptFp32()
    {
        using var directory = new TempDirectory();
        var (source, derived) = (Path.Combine(directory.Path, "source.onnx"), Path.Combine(directory.Path, "derived.onnx"));
        var graph = new GraphProto { Name = "cumsum" };
        graph.Input.Add(TestGraphs.Value("x", OnnxTensors.Float, 2, 3));
        graph.Output.Add(TestGraphs.Value("y", OnnxTensors.Float, 2, 3));
        graph.Initializer.Add(OnnxTensors.Make<long>("axis", OnnxTensors.Int64, [], [1L]));
        graph.Initializer.Add(OnnxTensors.Make<float>("w", OnnxTensors.Float, [3], [0.5f, -2f, 3f]));
        graph.Node.Add(OnnxNodes.Node("Mul", "", ["x", "w"], ["m"]));
        graph.Node.Add(OnnxNodes.Node("CumSum", "", ["m", "axis"], ["y"]));
        var model = TestGraphs.Model(graph);
        model.OpsetImport[0].Version = 13;   // CumSum-11 has no FP16 in its type constraints
        TestGraphs.Save(model, source);

        var outcome = new Fp16Transform().Apply(source, derived, CancellationToken.None);

        outcome.Notes.Should().Contain(note => note.Contains("1 CumSum kept FP32", StringComparison.Ordinal));
        AssertClose(source, derived, tolerance: 1e-2, string.Join("; ", outcome.Notes));
    }

    [Fact]
    public void ValuesASubgraphReadsKeepTheirFp32Type()
    {
        using var directory = new TempDirectory();
        var (source, derived) = (Path.Combine(directory.Path, "source.onnx"), Path.Combine(directory.Path, "derived.onnx"));
        var graph = new GraphProto { Name = "branches" };
        graph.Input.Add(TestGraphs.Value("x", OnnxTensors.Float, 3));
        graph.Input.Add(TestGraphs.Value("flag", (int)TensorProto.Types.DataType.Bool));
        graph.Output.Add(TestGraphs.Value("y", OnnxTensors.Float, 3));
        graph.Initializer.Add(OnnxTensors.Make<float>("w0", OnnxTensors.Float, [3], [1.5f, -2f, 0.25f]));
        graph.Initializer.Add(OnnxTensors.Make<float>("c1", OnnxTensors.Float, [3], [10f, 20f, 30f]));
        graph.Initializer.Add(OnnxTensors.Make<float>("w2", OnnxTensors.Float, [3], [0.5f, 0.5f, 2f]));
        var thenBranch = new GraphProto { Name = "then" };
        thenBranch.Node.Add(OnnxNodes.Node("Add", "then_add", ["h", "c1"], ["t"]));
        thenBranch.Output.Add(TestGraphs.Value("t", OnnxTensors.Float, 3));
        var elseBranch = new GraphProto { Name = "else" };
        elseBranch.Node.Add(OnnxNodes.Node("Neg", "else_neg", ["h"], ["e"]));
        elseBranch.Output.Add(TestGraphs.Value("e", OnnxTensors.Float, 3));
        graph.Node.Add(OnnxNodes.Node("Mul", "scale", ["x", "w0"], ["h"]));
        var branch = OnnxNodes.Node("If", "branch", ["flag"], ["b"]);
        branch.Attribute.Add(new AttributeProto { Name = "then_branch", Type = AttributeProto.Types.AttributeType.Graph, G = thenBranch });
        branch.Attribute.Add(new AttributeProto { Name = "else_branch", Type = AttributeProto.Types.AttributeType.Graph, G = elseBranch });
        graph.Node.Add(branch);
        graph.Node.Add(OnnxNodes.Node("Mul", "rescale", ["b", "w2"], ["y"]));
        TestGraphs.Save(TestGraphs.Model(graph), source);

        var outcome = new Fp16Transform().Apply(source, derived, CancellationToken.None);

        outcome.NodesChanged.Should().Be(2);
        outcome.Notes.Should().Contain(note => note.Contains("1 If kept FP32", StringComparison.Ordinal));
        foreach (var flag in new[] { true, false })
        {
            var inputs = new List<TestInput>
            {
                new("x", TensorElementType.Float, [3], new[] { 1f, 2f, 3f }),
                new("flag", TensorElementType.Bool, [], new[] { flag }),
            };
            var expected = ModelRunner.Run(source, inputs)["y"];
            var actual = ModelRunner.Run(derived, inputs)["y"];
            actual.Values.Should().Equal(expected.Values, (a, b) => Math.Abs(a - b) <= 1e-2 * Math.Max(1, Math.Abs(b)));
        }
    }

    [Fact]
    public void ConstantOfShapeWithoutValueMakesFp16Zeros()
    {
        using var directory = new TempDirectory();
        var (source, derived) = (Path.Combine(directory.Path, "source.onnx"), Path.Combine(directory.Path, "derived.onnx"));
        var graph = new GraphProto { Name = "zeros" };
        graph.Input.Add(TestGraphs.Value("x", OnnxTensors.Float, 2, 3));
        graph.Output.Add(TestGraphs.Value("y", OnnxTensors.Float, 2, 3));
        graph.Initializer.Add(OnnxTensors.Make<long>("shape", OnnxTensors.Int64, [2], [2L, 3L]));
        graph.Node.Add(OnnxNodes.Node("ConstantOfShape", "zeros", ["shape"], ["z"]));
        graph.Node.Add(OnnxNodes.Node("Add", "add", ["x", "z"], ["y"]));
        TestGraphs.Save(TestGraphs.Model(graph), source);

        var outcome = new Fp16Transform().Apply(source, derived, CancellationToken.None);

        outcome.Notes.Should().NotContain(note => note.Contains("kept FP32", StringComparison.Ordinal));
        outcome.NodesChanged.Should().Be(2);
        AssertClose(source, derived, tolerance: 1e-3, "");
    }

    private static void AssertClose(string source, string derived, double tolerance, string because)
    {
        var inputs = ModelRunner.InputsFor(source, seed: 2);
        var expected = ModelRunner.Run(source, inputs);
        var actual = ModelRunner.Run(derived, inputs);
        OptimizationAssertions.SameSignature(expected, actual);
        foreach (var (output, values) in expected)
        {
            OptimizationAssertions.RelativeMaxDiff(values, actual[output]).Should().BeLessThanOrEqualTo(tolerance, $"{output}: {because}");
        }
    }

    private static bool HasFp32Initializer(string path) =>
        ModelProto.Parser.ParseFrom(File.ReadAllBytes(path)).Graph.Initializer.Any(tensor => tensor.DataType == OnnxTensors.Float);
}
