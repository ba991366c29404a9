using Google.Protobuf;
using Grpc.Core;
using Inference;
using MaaS.Server.Tests.Infrastructure;

namespace MaaS.Server.Tests.Grpc;

/// <summary>RepositoryModelLoad / RepositoryModelUnload with the HTTP load's parameters; messages past the inference limit are allowed for loads only.</summary>
public sealed class GrpcRepositoryTests
{
    private static readonly byte[] MlpFile = File.ReadAllBytes(Path.Combine(RepositoryPaths.Models, "mlp", "1", "model.onnx"));

    // The inputs and outputs come from the ONNX file.
    private const string FreshConfig = """{"name": "fresh", "platform": "onnxruntime_onnx", "max_batch_size": 64}""";

    [Fact]
    public async Task Load_FromRequestParameters_ServesTheModelThenUnloadStopsIt()
    {
        using var repository = new TempRepository();
        using var app = new ConfiguredGrpcApplication(repository.Path);
        var client = await app.CreateReadyGrpcClientAsync();
        var load = new RepositoryModelLoadRequest { ModelName = "fresh" };
        load.Parameters["config"] = new ModelRepositoryParameter { StringParam = FreshConfig };
        load.Parameters["file:1/model.onnx"] = new ModelRepositoryParameter { BytesParam = ByteString.CopyFrom(MlpFile) };

        await client.RepositoryModelLoadAsync(load);

        var answer = await client.ModelInferAsync(GrpcRequests.Raw(ReferenceCase.Bundled("mlp", 1), "fresh"));
        answer.ModelName.Should().Be("fresh");
        await client.RepositoryModelUnloadAsync(new RepositoryModelUnloadRequest { ModelName = "fresh" });
        (await client.RepositoryIndexAsync(new RepositoryIndexRequest { Ready = true })).Models.Should().NotContain(m => m.Name == "fresh");
    }

    [Fact]
    public async Task Load_BadParameter_InvalidArgumentWithTheHttpMessage()
    {
        using var repository = new TempRepository();
        using var app = new ConfiguredGrpcApplication(repository.Path);
        var client = await app.CreateReadyGrpcClientAsync();
        var load = new RepositoryModelLoadRequest { ModelName = "fresh" };
        load.Parameters["file:x/model.onnx"] = new ModelRepositoryParameter { BytesParam = ByteString.CopyFrom(MlpFile) };

        var call = () => client.RepositoryModelLoadAsync(load).ResponseAsync;

        var error = (await call.Should().ThrowAsync<RpcException>()).Which;
        error.StatusCode.Should().Be(StatusCode.InvalidArgument);
        error.Status.Detail.Should().Contain("must name 'file:<version>/model.onnx'");
    }

    [Fact]
    public async Task MessageLimits_InferencePastTheBodyLimitRefused_LoadOfALargerFileAccepted()
    {
        using var repository = new TempRepository();
        using var app = new ConfiguredGrpcApplication(repository.Path, new Dictionary<string, string?> { ["MaaS:Limits:MaxRequestBodyBytes"] = "1024" });
        var client = await app.CreateReadyGrpcClientAsync();
        var infer = new ModelInferRequest { ModelName = "fresh" };
        infer.Inputs.Add(GrpcRequests.Input("input", "FP32", [1, 512]));
        infer.RawInputContents.Add(ByteString.CopyFrom(new byte[2048]));

        var call = () => client.ModelInferAsync(infer).ResponseAsync;

        var error = (await call.Should().ThrowAsync<RpcException>()).Which;
        error.StatusCode.Should().Be(StatusCode.ResourceExhausted);
        error.Status.Detail.Should().Contain("MaaS:Limits:MaxRequestBodyBytes");
        MlpFile.Length.Should().BeGreaterThan(1024, "the load below must carry more than the inference limit");
        var load = new RepositoryModelLoadRequest { ModelName = "fresh" };
        load.Parameters["config"] = new ModelRepositoryParameter { StringParam = FreshConfig };
        load.Parameters["file:1/model.onnx"] = new ModelRepositoryParameter { BytesParam = ByteString.CopyFrom(MlpFile) };
        await client.RepositoryModelLoadAsync(load);
        (await client.ModelReadyAsync(new ModelReadyRequest { Name = "fresh" })).Ready.Should().BeTrue();
    }

    [Fact]
    public async Task MessageLimits_StreamMessagePastTheBodyLimit_EndsTheStreamResourceExhausted()
    {
        using var repository = new TempRepository().CopyModel(RepositoryPaths.Models, "mlp");
        using var app = new ConfiguredGrpcApplication(repository.Path, new Dictionary<string, string?> { ["MaaS:Limits:MaxRequestBodyBytes"] = "1024" });
        var client = await app.CreateReadyGrpcClientAsync();
        var small = GrpcRequests.Raw(ReferenceCase.Bundled("mlp", 1), "mlp");
        small.CalculateSize().Should().BeLessThan(1024);
        var large = new ModelInferRequest { ModelName = "mlp" };
        large.Inputs.Add(GrpcRequests.Input("input", "FP32", [128, 4]));
        large.RawInputContents.Add(ByteString.CopyFrom(new byte[128 * 4 * 4]));
        using var call = client.ModelStreamInfer();

        await call.RequestStream.WriteAsync(small);
        (await call.ResponseStream.MoveNext(CancellationToken.None)).Should().BeTrue();
        call.ResponseStream.Current.ErrorMessage.Should().BeEmpty("a message within the limit is served");
        await call.RequestStream.WriteAsync(large);
        var next = () => call.ResponseStream.MoveNext(CancellationToken.None);

        var error = (await next.Should().ThrowAsync<RpcException>()).Which;
        error.StatusCode.Should().Be(StatusCode.ResourceExhausted);
        error.Status.Detail.Should().Contain("MaaS:Limits:MaxRequestBodyBytes");
    }
}
