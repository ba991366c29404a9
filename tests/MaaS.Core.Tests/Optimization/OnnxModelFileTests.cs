using Google.Protobuf;
using MaaS.Core.Optimization;
using MaaS.Core.Optimization.Onnx;
using MaaS.Core.Tests.Infrastructure;

namespace MaaS.Core.Tests.Optimization;

public sealed class OnnxModelFileTests
{
    [Theory]
    [InlineData("mlp")]
    [InlineData("cnn")]
    [InlineData("rnn")]
    [InlineData("transformer")]
    public void BundledModelsRoundTripByteForByte(string name)
    {
        using var directory = new TempDirectory();
        var source = Path.Combine(RepositoryPaths.Models, name, "1", "model.onnx");
        var copy = Path.Combine(directory.Path, "model.onnx");

        OnnxModelFile.Write(OnnxModelFile.Read(source, CancellationToken.None), copy);

        File.ReadAllBytes(copy).Should().Equal(File.ReadAllBytes(source));
        var inputs = ModelRunner.InputsFor(source, seed: 4);
        var expected = ModelRunner.Run(source, inputs);
        var actual = ModelRunner.Run(copy, inputs);
        foreach (var (output, values) in expected)
        {
            actual[output].Values.Should().Equal(values.Values);
        }
    }

    [Fact]
    public void FieldsThisProtoDoesNotKnowAreKept()
    {
        using var directory = new TempDirectory();
        var model = TestGraphs.NoMatMul();
        // Field 26 of ModelProto (device configurations, IR 11) is not in our proto: tag (26 << 3 | 2), length 3, "abc".
        byte[] unknown = [0xD2, 0x01, 3, (byte)'a', (byte)'b', (byte)'c'];
        var source = directory.WriteFile("source.onnx", [.. model.ToByteArray(), .. unknown]);
        var copy = Path.Combine(directory.Path, "copy.onnx");

        OnnxModelFile.Write(OnnxModelFile.Read(source, CancellationToken.None), copy);

        File.ReadAllBytes(copy).Should().Equal(File.ReadAllBytes(source));
    }

    [Fact]
    public void ExternalDataInsideTheDirectoryIsInlined()
    {
        using var directory = new TempDirectory();
        var model = TestGraphs.NoMatMul();
        var one = model.Graph.Initializer.Single();
        directory.WriteFile("weights/one.bin", [9, 9, .. BitConverter.GetBytes(1f)]);
        MakeExternal(one, "weights/one.bin", offset: 2);
        var source = directory.WriteFile("model.onnx", model.ToByteArray());

        var read = OnnxModelFile.Read(source, CancellationToken.None);

        var tensor = read.Graph.Initializer.Single();
        tensor.HasDataLocation.Should().BeFalse();
        tensor.ExternalData.Should().BeEmpty();
        OnnxTensors.ReadFloats(tensor).Should().Equal(1f);
    }

    [Theory]
    [InlineData("../outside.bin")]
    [InlineData("weights/../../outside.bin")]
    [InlineData("/etc/passwd")]
    [InlineData("")]
    public void ExternalDataOutsideTheDirectoryIsRefused(string location)
    {
        using var directory = new TempDirectory();
        directory.WriteFile("outside.bin", BitConverter.GetBytes(1f));
        var model = TestGraphs.NoMatMul();
        MakeExternal(model.Graph.Initializer.Single(), location, offset: 0);
        var source = directory.WriteFile("version/model.onnx", model.ToByteArray());

        var act = () => OnnxModelFile.Read(source, CancellationToken.None);

        act.Should().Throw<ServingException>().Where(ex => ex.Kind == FailureKind.InvalidInput)
            .WithMessage("tensor 'one' cannot be read: *");
    }

    [Fact]
    public void ExternalDataThroughASymbolicLinkIsRefused()
    {
        using var directory = new TempDirectory();
        var outside = directory.WriteFile("outside.bin", BitConverter.GetBytes(1f));
        directory.CreateDirectory("version");
        File.CreateSymbolicLink(Path.Combine(directory.Path, "version", "link.bin"), outside);
        var model = TestGraphs.NoMatMul();
        MakeExternal(model.Graph.Initializer.Single(), "link.bin", offset: 0);
        var source = directory.WriteFile("version/model.onnx", model.ToByteArray());

        var act = () => OnnxModelFile.Read(source, CancellationToken.None);

        act.Should().Throw<ServingException>().WithMessage("*symbolic link*");
    }

    [Fact]
    public void ExternalDataBeyondTheFileIsRefused()
    {
        using var directory = new TempDirectory();
        directory.WriteFile("one.bin", BitConverter.GetBytes(1f));
        var model = TestGraphs.NoMatMul();
        MakeExternal(model.Graph.Initializer.Single(), "one.bin", offset: 2);
        model.Graph.Initializer.Single().ExternalData.Add(new StringStringEntryProto { Key = "length", Value = "4" });
        var source = directory.WriteFile("model.onnx", model.ToByteArray());

        var act = () => OnnxModelFile.Read(source, CancellationToken.None);

        act.Should().Throw<ServingException>().WithMessage("*beyond the end of the 4-byte file*");
    }

    [Theory]
    [InlineData("truncated")]
    [InlineData("garbage")]
    [InlineData("empty")]
    [InlineData("no graph")]
    public void MalformedFilesAreInvalidInput(string kind)
    {
        using var directory = new TempDirectory();
        var model = File.ReadAllBytes(Path.Combine(RepositoryPaths.Models, "mlp", "1", "model.onnx"));
        byte[] bytes = kind switch
        {
            "truncated" => model[..(model.Length / 2)],
            "garbage" => [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01],
            "empty" => [],
            _ => new ModelProto { IrVersion = 8 }.ToByteArray(),
        };
        var source = directory.WriteFile("model.onnx", bytes);

        var act = () => OnnxModelFile.Read(source, CancellationToken.None);

        act.Should().Throw<ServingException>().Where(ex => ex.Kind == FailureKind.InvalidInput)
            .Which.Message.Should().MatchRegex("the file is not an ONNX model: .+|the model file is empty");
    }

    [Fact]
    public void TransformsReportUnreadableSourcesAsInvalidInput()
    {
        using var directory = new TempDirectory();
        var source = directory.WriteFile("model.onnx", "not a model");

        foreach (IModelTransform transform in new IModelTransform[] { new Int8Transform(), new Fp16Transform() })
        {
            var act = () => transform.Apply(source, Path.Combine(directory.Path, "out.onnx"), CancellationToken.None);
            act.Should().Throw<ServingException>().Where(ex => ex.Kind == FailureKind.InvalidInput);
        }
    }

    [Fact]
    public void ModelsOverTwoGibibytesAreRefusedBeforeReading()
    {
        using var directory = new TempDirectory();
        var source = Path.Combine(directory.Path, "model.onnx");
        using (var file = File.Create(source))
        {
            file.SetLength(OnnxModelFile.MaxModelBytes + 1);   // sparse: no disk is used
        }

        var act = () => OnnxModelFile.Read(source, CancellationToken.None);

        act.Should().Throw<ServingException>().Where(ex => ex.Kind == FailureKind.InvalidInput).WithMessage("*up to 2147483647 bytes (2 GiB*");
    }

    [Fact]
    public void ExternalDataPastTwoGibibytesIsRefusedBeforeReading()
    {
        using var directory = new TempDirectory();
        using (var file = File.Create(Path.Combine(directory.Path, "weights.bin")))
        {
            file.SetLength(3L << 30);
        }

        var model = TestGraphs.NoMatMul();
        MakeExternal(model.Graph.Initializer.Single(), "weights.bin", offset: 0);
        var source = directory.WriteFile("model.onnx", model.ToByteArray());

        var act = () => OnnxModelFile.Read(source, CancellationToken.None);

        act.Should().Throw<ServingException>().WithMessage("*with its external data; optimisation handles models up to*");
    }

    private static void MakeExternal(TensorProto tensor, string location, long offset)
    {
        tensor.ClearRawData();
        tensor.DataLocation = TensorProto.Types.DataLocation.External;
        tensor.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = location });
        tensor.ExternalData.Add(new StringStringEntryProto { Key = "offset", Value = offset.ToString(System.Globalization.CultureInfo.InvariantCulture) });
    }
}
