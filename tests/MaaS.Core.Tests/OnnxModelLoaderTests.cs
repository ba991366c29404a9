using System.Runtime.InteropServices;
using System.Text.Json;
using MaaS.Core.Inference;
using MaaS.Core.Repository;
using MaaS.Core.Sessions;
using MaaS.Core.Tensors;
using MaaS.Core.Tests.Infrastructure;

namespace MaaS.Core.Tests;

public sealed class OnnxModelLoaderTests : IDisposable
{
    private static readonly OnnxModelLoader Loader = TestLoaders.Create();

    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    private static OnnxModel Load(string root, string name, long version = 1, OnnxModelLoader? loader = null) =>
        (loader ?? Loader).Load(ModelRepositoryScanner.ReadModel(name, Path.Combine(root, name)), version);

    /// <summary>A temp repository holding model "m" version 1 copied from <paramref name="sourceModel"/>, with <paramref name="config"/>.</summary>
    private ModelDirectory CopyWithConfig(string sourceModel, string? config)
    {
        var target = _temp.CreateDirectory(Path.Combine("m", "1"));
        File.Copy(sourceModel, Path.Combine(target, "model.onnx"));
        if (config is not null)
        {
            _temp.WriteFile(Path.Combine("m", "config.json"), config);
        }

        var model = ModelRepositoryScanner.ReadModel("m", Path.Combine(_temp.Path, "m"));
        model.ConfigError.Should().BeNull();
        return model;
    }

    private static string MlpFile => Path.Combine(RepositoryPaths.Models, "mlp", "1", "model.onnx");

    private static JsonElement Reference(string path) => JsonDocument.Parse(File.ReadAllBytes(path)).RootElement;

    private static float[] Floats(JsonElement tensor) => [.. tensor.GetProperty("data").EnumerateArray().Select(value => value.GetSingle())];

    private static long[] Shape(JsonElement tensor) => [.. tensor.GetProperty("shape").EnumerateArray().Select(value => value.GetInt64())];

    private static void ShouldReject(ModelDirectory model, string messagePart)
    {
        var act = () => Loader.Load(model, 1).Dispose();
        act.Should().Throw<ModelConfigException>().Which.Message.Should().Contain(messagePart);
    }

    [Fact]
    public void Load_Mlp_SignatureFromConfigWithLabelsFile()
    {
        using var model = Load(RepositoryPaths.Models, "mlp");

        model.ExecutionProvider.Should().Be("cpu");
        var signature = model.Signature;
        signature.MaxBatchSize.Should().Be(64);
        var input = signature.Inputs.Should().ContainSingle().Which;
        input.Name.Should().Be("input");
        input.DataType.Should().Be(TensorDataType.Fp32);
        input.Dims.Should().Equal(4);
        var output = signature.Outputs.Should().ContainSingle().Which;
        output.Name.Should().Be("logits");
        output.Dims.Should().Equal(3);
        output.Labels.Should().Equal(File.ReadAllLines(Path.Combine(RepositoryPaths.Models, "mlp", "labels.txt")));
        output.Labels.Should().Equal("setosa", "versicolor", "virginica");
    }

    [Theory]
    [InlineData("no_batch_inferred")]
    [InlineData("no_batch")]
    public void Load_StaticShapes_NoBatchWithFullDims(string name)
    {
        using var model = Load(RepositoryPaths.Zoo, name);

        model.Signature.MaxBatchSize.Should().Be(0);
        model.Signature.Inputs.Single().Should().Match<TensorSpec>(spec => spec.Name == "x" && spec.DataType == TensorDataType.Fp32);
        model.Signature.Inputs.Single().Dims.Should().Equal(2, 3);
        model.Signature.Outputs.Single().Dims.Should().Equal(3, 2);
        model.Signature.ProtocolShape(model.Signature.Inputs[0]).Should().Equal(2, 3);
    }

    [Fact]
    public void Load_MultiIoWithoutConfig_InfersDefaultBatchAndEveryTensor()
    {
        using var model = Load(RepositoryPaths.Zoo, "multi_io");

        model.Signature.MaxBatchSize.Should().Be(64);
        model.Signature.Inputs.Select(spec => (spec.Name, spec.DataType, string.Join(",", spec.Dims))).Should().BeEquivalentTo(
        [
            ("a", TensorDataType.Fp32, "3"),
            ("b", TensorDataType.Fp64, "3"),
            ("c", TensorDataType.Int32, "2"),
        ]);
        model.Signature.Outputs.Select(spec => (spec.Name, spec.DataType, spec.Dims.Length)).Should().BeEquivalentTo(
        [
            ("sum", TensorDataType.Fp64, 1),
            ("prod", TensorDataType.Int64, 0),
            ("flag", TensorDataType.Bool, 0),
        ]);
    }

    [Fact]
    public void Load_InferredBatch_UsesDefaultMaxBatchSizeOption()
    {
        var loader = TestLoaders.Create(new MaaSOptions { DefaultMaxBatchSize = 16 });

        using var model = Load(RepositoryPaths.Zoo, "multi_io", loader: loader);

        model.Signature.MaxBatchSize.Should().Be(16);
    }

    [Fact]
    public void Load_CorruptModelFile_ThrowsModelConfigException()
    {
        _temp.WriteFile(Path.Combine("m", "1", "model.onnx"), [0x08, 0x07, 0xFF, 0x00, 0x42, 0x13, 0x37]);

        ShouldReject(ModelRepositoryScanner.ReadModel("m", Path.Combine(_temp.Path, "m")), "model.onnx");
    }

    [Fact]
    public void Load_ConfigDimsIncompatibleWithGraph_Throws()
    {
        var model = CopyWithConfig(MlpFile, """{"input": [{"name": "input", "data_type": "TYPE_FP32", "dims": [5]}]}""");

        ShouldReject(model, "dims [5]");
    }

    [Fact]
    public void Load_ConfigRankDiffersFromGraph_Throws()
    {
        var model = CopyWithConfig(MlpFile, """{"input": [{"name": "input", "dims": [2, 2]}]}""");

        ShouldReject(model, "dims [2,2]");
    }

    [Fact]
    public void Load_ConfigDataTypeDiffersFromGraph_Throws()
    {
        var model = CopyWithConfig(MlpFile, """{"input": [{"name": "input", "data_type": "TYPE_INT64"}]}""");

        ShouldReject(model, "TYPE_INT64");
    }

    [Fact]
    public void Load_ConfigNamesTensorNotInGraph_Throws()
    {
        var model = CopyWithConfig(MlpFile, """{"output": [{"name": "probabilities"}]}""");

        ShouldReject(model, "'probabilities' is not an output");
    }

    [Fact]
    public void Load_MaxBatchSizeOnGraphWithoutBatchDim_Throws()
    {
        var model = CopyWithConfig(Path.Combine(RepositoryPaths.Zoo, "no_batch", "1", "model.onnx"), """{"max_batch_size": 4}""");

        ShouldReject(model, "no variable first dimension");
    }

    [Fact]
    public void Load_LabelFilenameMissing_Throws()
    {
        var model = CopyWithConfig(MlpFile, """{"output": [{"name": "logits", "label_filename": "classes.txt"}]}""");

        ShouldReject(model, "classes.txt");
    }

    [Fact]
    public void Load_ConfigNarrowsVariableDim_UsesConfiguredSize()
    {
        var model = CopyWithConfig(
            Path.Combine(RepositoryPaths.Zoo, "seq_mask", "1", "model.onnx"), """{"input": [{"name": "tokens", "dims": [16]}]}""");

        using var loaded = Loader.Load(model, 1);

        loaded.Signature.MaxBatchSize.Should().Be(64);
        loaded.Signature.Inputs.Single(spec => spec.Name == "tokens").Dims.Should().Equal(16);
        loaded.Signature.Inputs.Single(spec => spec.Name == "mask").Dims.Should().Equal(-1);
    }

    [Fact]
    public async Task Run_MlpReferenceInput_MatchesPyTorchLogits()
    {
        var reference = Reference(Path.Combine(RepositoryPaths.References, "mlp", "1.json"));
        var input = reference.GetProperty("inputs")[0];
        var expected = reference.GetProperty("outputs")[0];
        using var model = Load(RepositoryPaths.Models, "mlp");
        using var request = new InferRequest();
        request.Inputs.Add(new InferInput("input", TensorDataType.Fp32, Shape(input), TensorBuffer.CopyOf(TensorBytes.Of(Floats(input)))));
        request.Outputs.Add(new RequestedOutput("logits", Binary: false));

        using var result = await model.RunAsync(request, CancellationToken.None);

        var logits = result.Outputs.Single();
        logits.Name.Should().Be("logits");
        logits.DataType.Should().Be(TensorDataType.Fp32);
        logits.Shape.Should().Equal(Shape(expected));
        var actual = MemoryMarshal.Cast<byte, float>(logits.FixedData).ToArray();
        var wanted = Floats(expected);
        actual.Should().HaveCount(wanted.Length);
        for (var i = 0; i < wanted.Length; i++)
        {
            actual[i].Should().BeApproximately(wanted[i], 1e-4f, $"logit {i}");
        }
    }

    [Fact]
    public async Task Run_MlpWithClassification_ReturnsTopClassesWithLabels()
    {
        var reference = Reference(Path.Combine(RepositoryPaths.References, "mlp", "1.json"));
        var input = reference.GetProperty("inputs")[0];
        using var model = Load(RepositoryPaths.Models, "mlp");
        using var request = new InferRequest();
        request.Inputs.Add(new InferInput("input", TensorDataType.Fp32, Shape(input), TensorBuffer.CopyOf(TensorBytes.Of(Floats(input)))));
        request.Outputs.Add(new RequestedOutput("logits", Binary: true, ClassCount: 2));

        using var result = await model.RunAsync(request, CancellationToken.None);

        var output = result.Outputs.Single();
        output.DataType.Should().Be(TensorDataType.Bytes);
        output.Shape.Should().Equal(3, 2);
        var elements = new List<string>();
        var offset = 0;
        for (var i = 0; i < 6; i++)
        {
            elements.Add(System.Text.Encoding.UTF8.GetString(output.GetBytesElement(i, ref offset)));
        }

        // The reference flowers are one setosa, one versicolor and one virginica; PyTorch's logits (reference file):
        // row 0 10.503321, 0.561987, -17.673286; row 1 -4.540907, 7.221628, -3.073854; row 2 -7.180349, -1.760097, 8.140385.
        // The labels must match exactly, the scores (printed with 6 decimals) to float32 rounding of logits near 10.
        elements.Select(element => element[(element.IndexOf(':', StringComparison.Ordinal) + 1)..]).Should().Equal(
            "0:setosa", "1:versicolor",
            "1:versicolor", "2:virginica",
            "2:virginica", "1:versicolor");
        float[] scores = [10.503321f, 0.561987f, 7.221628f, -3.073854f, 8.140385f, -1.760097f];
        for (var i = 0; i < elements.Count; i++)
        {
            float.Parse(elements[i][..elements[i].IndexOf(':', StringComparison.Ordinal)], System.Globalization.CultureInfo.InvariantCulture)
                .Should().BeApproximately(scores[i], 1e-4f, elements[i]);
        }
    }

    [Fact]
    public async Task Run_StringsModel_RoundTripsBytes()
    {
        var strings = TensorBytes.Strings("hello", "wörld", "");
        using var model = Load(RepositoryPaths.Zoo, "strings");
        model.Signature.Inputs.Single().DataType.Should().Be(TensorDataType.Bytes);
        using var request = new InferRequest();
        request.Inputs.Add(new InferInput("text", TensorDataType.Bytes, [3], TensorBuffer.CopyOf(strings)));
        request.Outputs.Add(new RequestedOutput("same", Binary: true));

        using var result = await model.RunAsync(request, CancellationToken.None);

        var output = result.Outputs.Single();
        output.DataType.Should().Be(TensorDataType.Bytes);
        output.Shape.Should().Equal(3);
        output.BinarySize.Should().Be(strings.Length);
        var offset = 0;
        Enumerable.Range(0, 3).Select(i => System.Text.Encoding.UTF8.GetString(output.GetBytesElement(i, ref offset)))
            .Should().Equal("hello", "wörld", "");
    }

    [Fact]
    public async Task Run_Fp16Model_ReturnsReferenceHalves()
    {
        var reference = Reference(Path.Combine(RepositoryPaths.Zoo, "fp16", "reference.json"));
        var input = reference.GetProperty("inputs")[0];
        var expected = reference.GetProperty("outputs")[0];
        using var model = Load(RepositoryPaths.Zoo, "fp16");
        using var request = new InferRequest();
        var halves = Floats(input).Select(value => (Half)value).ToArray();
        request.Inputs.Add(new InferInput("x", TensorDataType.Fp16, Shape(input), TensorBuffer.CopyOf(TensorBytes.Of(halves))));
        request.Outputs.Add(new RequestedOutput("y", Binary: true));

        using var result = await model.RunAsync(request, CancellationToken.None);

        var output = result.Outputs.Single();
        output.DataType.Should().Be(TensorDataType.Fp16);
        output.FixedData.ToArray().Should().Equal(TensorBytes.Of(Floats(expected).Select(value => (Half)value).ToArray()));
    }

    [Fact]
    public async Task Run_ScalarOutput_HasEmptyShape()
    {
        var reference = Reference(Path.Combine(RepositoryPaths.Zoo, "scalar_out", "reference.json"));
        var input = reference.GetProperty("inputs")[0];
        var expected = Floats(reference.GetProperty("outputs")[0]).Single();
        using var model = Load(RepositoryPaths.Zoo, "scalar_out");
        using var request = new InferRequest();
        request.Inputs.Add(new InferInput("x", TensorDataType.Fp32, Shape(input), TensorBuffer.CopyOf(TensorBytes.Of(Floats(input)))));
        request.Outputs.Add(new RequestedOutput("total", Binary: false));

        using var result = await model.RunAsync(request, CancellationToken.None);

        var output = result.Outputs.Single();
        output.Shape.Should().BeEmpty();
        output.ElementCount.Should().Be(1);
        MemoryMarshal.Cast<byte, float>(output.FixedData)[0].Should().BeApproximately(expected, 1e-4f);
    }
}
