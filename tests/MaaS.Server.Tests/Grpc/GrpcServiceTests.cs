using System.Net.Http.Json;
using System.Text.Json;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Reflection.V1Alpha;
using Inference;
using MaaS.Server.Tests.Infrastructure;

namespace MaaS.Server.Tests.Grpc;

/// <summary>Every RPC of Triton's service but inference, against what the HTTP routes answer.</summary>
[Collection(GrpcBundledGroup.Name)]
public sealed class GrpcServiceTests(GrpcApplication app)
{
    [Fact]
    public async Task ServerLiveAndReady_OnceLoaded_True()
    {
        var client = await app.CreateReadyGrpcClientAsync();

        (await client.ServerLiveAsync(new ServerLiveRequest())).Live.Should().BeTrue();
        (await client.ServerReadyAsync(new ServerReadyRequest())).Ready.Should().BeTrue();
    }

    [Fact]
    public async Task ModelReady_KnownUnknownAndVersion()
    {
        var client = await app.CreateReadyGrpcClientAsync();

        (await client.ModelReadyAsync(new ModelReadyRequest { Name = "mlp" })).Ready.Should().BeTrue();
        (await client.ModelReadyAsync(new ModelReadyRequest { Name = "rnn", Version = "1" })).Ready.Should().BeTrue();
        var unknown = () => client.ModelReadyAsync(new ModelReadyRequest { Name = "nope" }).ResponseAsync;
        (await unknown.Should().ThrowAsync<RpcException>()).Which.StatusCode.Should().Be(StatusCode.NotFound);
    }

    [Fact]
    public async Task ServerMetadata_SameAsHttp()
    {
        var client = await app.CreateReadyGrpcClientAsync();
        using var http = app.CreateClient();
        var expected = await http.GetFromJsonAsync<JsonElement>(new Uri("/v2", UriKind.Relative));

        var metadata = await client.ServerMetadataAsync(new ServerMetadataRequest());

        metadata.Name.Should().Be(expected.GetProperty("name").GetString());
        metadata.Version.Should().Be(expected.GetProperty("version").GetString());
        metadata.Extensions.Should().Equal(expected.GetProperty("extensions").EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    public async Task ModelMetadata_SameAsHttp()
    {
        var client = await app.CreateReadyGrpcClientAsync();
        using var http = app.CreateClient();
        var expected = await http.GetFromJsonAsync<JsonElement>(new Uri("/v2/models/rnn", UriKind.Relative));

        var metadata = await client.ModelMetadataAsync(new ModelMetadataRequest { Name = "rnn" });

        metadata.Name.Should().Be("rnn");
        metadata.Platform.Should().Be(expected.GetProperty("platform").GetString());
        metadata.Versions.Should().Equal(expected.GetProperty("versions").EnumerateArray().Select(e => e.GetString()));
        metadata.Inputs.Select(i => $"{i.Name}:{i.Datatype}:{string.Join(',', i.Shape)}").Should().Equal(
            expected.GetProperty("inputs").EnumerateArray().Select(i =>
                $"{i.GetProperty("name").GetString()}:{i.GetProperty("datatype").GetString()}:{string.Join(',', i.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()))}"));
        metadata.Outputs.Should().HaveCount(expected.GetProperty("outputs").GetArrayLength());
    }

    [Fact]
    public async Task ModelConfig_MapsTheEffectiveConfig()
    {
        var client = await app.CreateReadyGrpcClientAsync();
        using var http = app.CreateClient();
        var expected = await http.GetFromJsonAsync<JsonElement>(new Uri("/v2/models/mlp/config", UriKind.Relative));

        var config = (await client.ModelConfigAsync(new ModelConfigRequest { Name = "mlp" })).Config;

        config.Name.Should().Be("mlp");
        config.Platform.Should().Be("onnxruntime_onnx");
        config.Backend.Should().Be("onnxruntime");
        config.MaxBatchSize.Should().Be(expected.GetProperty("max_batch_size").GetInt32());
        var dataTypes = ModelConfigReflection.Descriptor.FindTypeByName<Google.Protobuf.Reflection.EnumDescriptor>("DataType");
        config.Input.Select(i => $"{i.Name}:{(int)i.DataType}:{string.Join(',', i.Dims)}").Should().Equal(
            expected.GetProperty("input").EnumerateArray().Select(i =>
                $"{i.GetProperty("name").GetString()}:{dataTypes.FindValueByName(i.GetProperty("data_type").GetString()).Number}:{string.Join(',', i.GetProperty("dims").EnumerateArray().Select(d => d.GetInt64()))}"));
        config.Output.Should().HaveCount(expected.GetProperty("output").GetArrayLength());
        config.InstanceGroup.Should().NotBeEmpty();
        config.InstanceGroup[0].Kind.Should().Be(ModelInstanceGroup.Types.Kind.Cpu);
        config.VersionPolicy.Should().NotBeNull();
    }

    [Fact]
    public async Task ModelStatistics_CountsAnInference()
    {
        var client = await app.CreateReadyGrpcClientAsync();
        var before = (await client.ModelStatisticsAsync(new ModelStatisticsRequest { Name = "cnn", Version = "1" })).ModelStats.Single();
        await client.ModelInferAsync(GrpcRequests.Raw(ReferenceCase.Bundled("cnn", 1), "cnn"));

        var after = (await client.ModelStatisticsAsync(new ModelStatisticsRequest { Name = "cnn", Version = "1" })).ModelStats.Single();

        after.Name.Should().Be("cnn");
        after.Version.Should().Be("1");
        after.InferenceStats.Success.Count.Should().BeGreaterThan(before.InferenceStats.Success.Count);
        after.InferenceCount.Should().BeGreaterThan(before.InferenceCount);
        after.InferenceStats.ComputeInfer.Ns.Should().BeGreaterThan(0);
        var all = await client.ModelStatisticsAsync(new ModelStatisticsRequest());
        all.ModelStats.Select(s => s.Name).Should().Contain(["cnn", "linear", "logistic", "mlp", "rnn", "transformer"]);
    }

    [Fact]
    public async Task ModelStatistics_UnknownModel_InvalidArgumentAsTriton()
    {
        var client = await app.CreateReadyGrpcClientAsync();

        var call = () => client.ModelStatisticsAsync(new ModelStatisticsRequest { Name = "nope" }).ResponseAsync;

        (await call.Should().ThrowAsync<RpcException>()).Which.StatusCode.Should().Be(StatusCode.InvalidArgument);
    }

    [Fact]
    public async Task RepositoryIndex_ListsEveryVersionWithItsState()
    {
        var client = await app.CreateReadyGrpcClientAsync();

        var index = await client.RepositoryIndexAsync(new RepositoryIndexRequest { Ready = true });

        index.Models.Select(m => $"{m.Name}/{m.Version}").Should().Contain(["mlp/1", "rnn/1", "rnn/2"]);
        index.Models.Should().OnlyContain(m => m.State == "READY");
    }

    [Fact]
    public async Task SharedMemoryStatus_Empty_AndRegisterUnimplemented()
    {
        var client = await app.CreateReadyGrpcClientAsync();

        (await client.SystemSharedMemoryStatusAsync(new SystemSharedMemoryStatusRequest())).Regions.Should().BeEmpty();
        (await client.CudaSharedMemoryStatusAsync(new CudaSharedMemoryStatusRequest())).Regions.Should().BeEmpty();
        var system = () => client.SystemSharedMemoryRegisterAsync(new SystemSharedMemoryRegisterRequest { Name = "r" }).ResponseAsync;
        var cuda = () => client.CudaSharedMemoryUnregisterAsync(new CudaSharedMemoryUnregisterRequest()).ResponseAsync;
        (await system.Should().ThrowAsync<RpcException>()).Which.Status.Should().Match<Status>(s => s.StatusCode == StatusCode.Unimplemented && s.Detail.Contains("shared memory"));
        (await cuda.Should().ThrowAsync<RpcException>()).Which.StatusCode.Should().Be(StatusCode.Unimplemented);
    }

    [Fact]
    public async Task TraceAndLogSettings_Unimplemented()
    {
        var client = await app.CreateReadyGrpcClientAsync();

        var trace = () => client.TraceSettingAsync(new TraceSettingRequest()).ResponseAsync;
        var log = () => client.LogSettingsAsync(new LogSettingsRequest()).ResponseAsync;

        (await trace.Should().ThrowAsync<RpcException>()).Which.StatusCode.Should().Be(StatusCode.Unimplemented);
        (await log.Should().ThrowAsync<RpcException>()).Which.StatusCode.Should().Be(StatusCode.Unimplemented);
    }

    [Fact]
    public async Task HealthService_ServingWhenReady()
    {
        (await app.CreateReadyClientAsync()).Dispose();
        using var channel = app.CreateChannel();

        var health = await new Health.HealthClient(channel).CheckAsync(new HealthCheckRequest());

        health.Status.Should().Be(HealthCheckResponse.Types.ServingStatus.Serving);
    }

    [Fact]
    public async Task Reflection_ListsTheInferenceService()
    {
        using var channel = app.CreateChannel();
        using var call = new ServerReflection.ServerReflectionClient(channel).ServerReflectionInfo();

        await call.RequestStream.WriteAsync(new ServerReflectionRequest { ListServices = "" });
        await call.RequestStream.CompleteAsync();
        (await call.ResponseStream.MoveNext(CancellationToken.None)).Should().BeTrue();

        call.ResponseStream.Current.ListServicesResponse.Service.Select(s => s.Name)
            .Should().Contain(["inference.GRPCInferenceService", "grpc.health.v1.Health"]);
    }
}
