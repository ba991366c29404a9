using System.Buffers.Binary;
using System.Text;
using Google.Protobuf;
using Inference;
using MaaS.Server.Tests.Pipelines;

namespace MaaS.Server.Tests.Grpc;

/// <summary>ModelInfer on the bundled image pipeline <c>digits</c>: PNG files as BYTES, typed or raw, as gRPC clients send them.</summary>
[Collection(GrpcBundledGroup.Name)]
public sealed class GrpcImagePipelineTests(GrpcApplication app)
{
    private static byte[] Sample(int digit) => File.ReadAllBytes(Path.Combine(RepositoryPaths.Models, "samples", $"digit-{digit}.png"));

    [Fact]
    public async Task ModelInfer_BytesContents_ClassifiesEachImage()
    {
        var client = await app.CreateReadyGrpcClientAsync();
        var request = new ModelInferRequest { ModelName = "digits" };
        var input = new ModelInferRequest.Types.InferInputTensor { Name = "image", Datatype = "BYTES", Contents = new InferTensorContents() };
        input.Shape.Add(2);
        input.Contents.BytesContents.Add(ByteString.CopyFrom(Sample(6)));
        input.Contents.BytesContents.Add(ByteString.CopyFrom(Sample(9)));
        request.Inputs.Add(input);

        var response = await client.ModelInferAsync(request);

        response.ModelName.Should().Be("digits");
        response.Outputs[0].Name.Should().Be("classification");
        response.Outputs[0].Shape.Should().Equal(2, 3);
        var classes = Elements(response.RawOutputContents[0].ToByteArray()).Select(ImagePipelineTests.Parse).ToList();
        classes[0].Label.Should().Be("6");
        classes[3].Label.Should().Be("9");
    }

    [Fact]
    public async Task ModelInfer_RawInputContents_ClassifiesTheImage()
    {
        var client = await app.CreateReadyGrpcClientAsync();
        var request = new ModelInferRequest { ModelName = "digits" };
        var input = new ModelInferRequest.Types.InferInputTensor { Name = "image", Datatype = "BYTES" };
        input.Shape.Add(1);
        request.Inputs.Add(input);
        var image = Sample(0);
        var raw = new byte[4 + image.Length];
        BinaryPrimitives.WriteInt32LittleEndian(raw, image.Length);
        image.CopyTo(raw, 4);
        request.RawInputContents.Add(ByteString.CopyFrom(raw));

        var response = await client.ModelInferAsync(request);

        ImagePipelineTests.Parse(Elements(response.RawOutputContents[0].ToByteArray())[0]).Label.Should().Be("0");
    }

    [Fact]
    public async Task ModelConfigAndStatistics_Digits_AreThePipelinesOwn()
    {
        var client = await app.CreateReadyGrpcClientAsync();
        var before = (await client.ModelStatisticsAsync(new ModelStatisticsRequest { Name = "digits" })).ModelStats.Single();

        var config = (await client.ModelConfigAsync(new ModelConfigRequest { Name = "digits" })).Config;
        var request = new ModelInferRequest { ModelName = "digits" };
        var input = new ModelInferRequest.Types.InferInputTensor { Name = "image", Datatype = "BYTES", Contents = new InferTensorContents() };
        input.Shape.Add(1);
        input.Contents.BytesContents.Add(ByteString.CopyFrom(Sample(2)));
        request.Inputs.Add(input);
        await client.ModelInferAsync(request);
        var after = (await client.ModelStatisticsAsync(new ModelStatisticsRequest { Name = "digits" })).ModelStats.Single();

        config.Name.Should().Be("digits");
        config.Platform.Should().Be("maas_pipeline");
        config.Input.Single().Name.Should().Be("image");
        config.Input.Single().DataType.Should().Be(DataType.TypeString);
        config.Output.Single().Name.Should().Be("classification");
        config.Parameters["pipeline.inner_model"].StringValue.Should().Be("cnn");
        (after.Name, after.Version).Should().Be(("digits", "1"));
        after.InferenceCount.Should().Be(before.InferenceCount + 1);
        after.InferenceStats.Success.Count.Should().Be(before.InferenceStats.Success.Count + 1);
    }

    private static List<string> Elements(byte[] serialized)
    {
        var elements = new List<string>();
        for (var offset = 0; offset < serialized.Length;)
        {
            var length = BinaryPrimitives.ReadInt32LittleEndian(serialized.AsSpan(offset));
            elements.Add(Encoding.UTF8.GetString(serialized, offset + 4, length));
            offset += 4 + length;
        }

        return elements;
    }
}
