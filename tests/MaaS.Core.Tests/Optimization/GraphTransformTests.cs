using MaaS.Core.Optimization;
using MaaS.Core.Sessions;
using MaaS.Core.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.ML.OnnxRuntime;

namespace MaaS.Core.Tests.Optimization;

/// <summary>The graph method and the node count it reports, on the bundled models (node counts as the onnx package reads them).</summary>
public sealed class GraphTransformTests
{
    private static readonly GraphTransform Transform = new(new OrtRuntime(Options.Create(new SessionsOptions()), new CpuBudget(2), NullLogger<OrtRuntime>.Instance));

    [Theory]
    [InlineData("mlp", 5)]
    [InlineData("cnn", 8)]
    [InlineData("rnn", 17)]
    [InlineData("transformer", 136)]
    public void NodeCount_BundledModel_CountsTheMainGraphsNodes(string model, int nodes) =>
        OnnxNodeCount.Of(ModelFile(model)).Should().Be(nodes);

    [Fact]
    public void NodeCount_NotAnOnnxFile_IsNull()
    {
        using var directory = new TempDirectory();

        OnnxNodeCount.Of(directory.WriteFile("garbage.onnx", "this is not protobuf at all")).Should().BeNull();
    }

    [Fact]
    public void Apply_Transformer_WritesAGraphWithFewerNodesAndTheSameInputsAndOutputs()
    {
        using var directory = new TempDirectory();
        var destination = Path.Combine(directory.Path, "optimized.onnx");

        var outcome = Transform.Apply(ModelFile("transformer"), destination, CancellationToken.None);

        outcome.NodesTotal.Should().Be(136);
        outcome.NodesChanged.Should().Be(136 - OnnxNodeCount.Of(destination)!.Value).And.BePositive();
        outcome.Notes.Should().Contain(note => note.Contains($"{outcome.NodesChanged} of 136 nodes", StringComparison.Ordinal));
        using var source = new InferenceSession(ModelFile("transformer"));
        using var optimized = new InferenceSession(destination);
        optimized.InputNames.Should().Equal(source.InputNames);
        optimized.OutputNames.Should().Equal(source.OutputNames);
    }

    [Fact]
    public void Apply_CnnWithNothingBasicToRewrite_StillWritesTheModelAndSaysSo()
    {
        using var directory = new TempDirectory();
        var destination = Path.Combine(directory.Path, "optimized.onnx");

        var outcome = Transform.Apply(ModelFile("cnn"), destination, CancellationToken.None);

        outcome.Should().BeEquivalentTo(new { NodesChanged = 0, NodesTotal = 8 });
        outcome.Notes.Should().Contain(note => note.StartsWith("no node was removed or fused", StringComparison.Ordinal));
        OnnxNodeCount.Of(destination).Should().Be(8);
    }

    [Fact]
    public void Apply_NotAModel_IsInvalidInputAndWritesNothing()
    {
        using var directory = new TempDirectory();
        var destination = Path.Combine(directory.Path, "optimized.onnx");

        var apply = () => Transform.Apply(directory.WriteFile("garbage.onnx", "garbage"), destination, CancellationToken.None);

        apply.Should().Throw<ServingException>().Which.Kind.Should().Be(FailureKind.InvalidInput);
        File.Exists(destination).Should().BeFalse();
    }

    [Fact]
    public void Apply_Cancelled_Throws()
    {
        using var directory = new TempDirectory();

        var apply = () => Transform.Apply(ModelFile("mlp"), Path.Combine(directory.Path, "x.onnx"), new CancellationToken(canceled: true));

        apply.Should().Throw<OperationCanceledException>();
    }

    private static string ModelFile(string model) => Path.Combine(RepositoryPaths.Models, model, "1", "model.onnx");
}
