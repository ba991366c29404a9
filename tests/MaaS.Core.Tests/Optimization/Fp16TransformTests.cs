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
        TestGraphs.Save(TestGraphs.Model(graph), source);

        var outcome = new Fp16Transform().Apply(source, derived, CancellationToken.None);

        outcome.Notes.Should().Contain(note => note.Contains("1 Range kept FP32", StringComparison.Ordinal))
            .And.Contain(note => note.Contains("1 weight values beyond the FP16 range clamped", StringComparison.Ordinal));
        var inputs = new List<TestInput> { new("x", TensorElementType.Float, [4], new[] { 1f, 2f, 3f, 4f }) };
        var expected = ModelRunner.Run(source, inputs)["y"];
        var actual = ModelRunner.Run(derived, inputs)["y"];
        actual.Type.Should().Be(TensorElementType.Float);
        actual.Values.Should().Equal(expected.Values, (a, b) => Math.Abs(a - b) <= 1e-2 * Math.Max(1, Math.Abs(b)));
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
