using System.Net;
using MaaS.Client.Tests.Infrastructure;
using MaaS.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace MaaS.Client.Tests;

/// <summary>
/// The gRPC transport against the server's gRPC service: every zoo datatype through raw contents equals the
/// reference and the HTTP transport's answer; metadata, readiness, config, index and statistics equal HTTP's.
/// </summary>
public sealed class GrpcTransportTests(GrpcZooServer server) : IClassFixture<GrpcZooServer>
{
    public static TheoryData<string> Models() => ["all_types", "all_types_no_fp16", "multi_io", "int_types", "fp16", "strings", "scalar_out", "no_batch"];

    [Fact]
    public void Registration_WithGrpcTransport_IsTheGrpcClient() => server.Grpc.Should().BeOfType<MaaSGrpcClient>();

    [Theory]
    [MemberData(nameof(Models))]
    public async Task Infer_ZooModel_EqualsReferenceAndHttp(string model)
    {
        using var reference = InferTests.ReadReference(model);
        var inputs = reference.RootElement.GetProperty("inputs").EnumerateArray().Select(InferTests.ToInput).ToList();

        var grpc = await server.Grpc.InferAsync(model, inputs, new InferOptions { Id = "g1" });
        var http = await server.Http.InferAsync(model, inputs);

        grpc.ModelName.Should().Be(model);
        grpc.ModelVersion.Should().Be("1");
        grpc.Id.Should().Be("g1");
        foreach (var expected in reference.RootElement.GetProperty("outputs").EnumerateArray())
        {
            var actual = grpc[expected.GetProperty("name").GetString()!];
            actual.Datatype.Should().Be(expected.GetProperty("datatype").GetString());
            actual.Shape.Should().Equal(expected.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()));
            InferTests.ShouldMatch(actual.Datatype, actual.Data.ToArray(), TensorLayout.ReadJson(expected.GetProperty("data"), actual.Datatype, actual.ElementCount));
            actual.Data.ToArray().Should().Equal(http[actual.Name].Data.ToArray(), "both transports run the same model on the same bytes");
        }
    }

    [Fact]
    public async Task Infer_Bf16ForAnFp16Input_IsRefusedNamingBf16_AsOverHttp()
    {
        // No zoo model takes BF16: the raw BF16 tensor reaches the server, which refuses it for an FP16 input by name.
        var input = InferInput.FromRaw("x", Datatypes.Bf16, new byte[8], 1, 4);

        var grpc = () => server.Grpc.InferAsync("fp16", [input]);
        var http = () => server.Http.InferAsync("fp16", [input]);

        var grpcError = (await grpc.Should().ThrowAsync<MaaSException>()).Which;
        var httpError = (await http.Should().ThrowAsync<MaaSException>()).Which;
        grpcError.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        httpError.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        grpcError.Message.Should().Contain("BF16");
    }

    [Fact]
    public async Task Infer_RequestedOutputAndClassification_AsOverHttp()
    {
        using var reference = InferTests.ReadReference("multi_io");
        var inputs = reference.RootElement.GetProperty("inputs").EnumerateArray().Select(InferTests.ToInput).ToList();

        var result = await server.Grpc.InferAsync("multi_io", inputs, new InferOptions { Outputs = [new RequestedOutput("sum", Classification: 1)] });
        var http = await server.Http.InferAsync("multi_io", inputs, new InferOptions { Outputs = [new RequestedOutput("sum", Classification: 1)] });

        result.Outputs.Select(o => o.Name).Should().Equal("sum");
        result["sum"].Datatype.Should().Be(Datatypes.Bytes);
        result["sum"].GetStrings().Should().Equal(http["sum"].GetStrings());
    }

    [Fact]
    public async Task MetadataReadinessIndex_EqualHttp()
    {
        (await server.Grpc.IsLiveAsync()).Should().BeTrue();
        (await server.Grpc.IsReadyAsync()).Should().BeTrue();
        (await server.Grpc.IsModelReadyAsync("multi_io")).Should().BeTrue();
        (await server.Grpc.IsModelReadyAsync("multi_io", ModelVersion.Of(1))).Should().BeTrue();

        var server1 = await server.Grpc.GetServerMetadataAsync();
        var server2 = await server.Http.GetServerMetadataAsync();
        server1.Name.Should().Be(server2.Name);
        server1.Version.Should().Be(server2.Version);
        server1.Extensions.Should().Equal(server2.Extensions);

        var grpc = await server.Grpc.GetModelMetadataAsync("multi_io");
        var http = await server.Http.GetModelMetadataAsync("multi_io");
        grpc.Should().BeEquivalentTo(http);

        var grpcIndex = await server.Grpc.GetRepositoryIndexAsync();
        var httpIndex = await server.Http.GetRepositoryIndexAsync();
        grpcIndex.Should().BeEquivalentTo(httpIndex);
        (await server.Grpc.GetRepositoryIndexAsync(readyOnly: true)).Should().OnlyContain(e => e.State == "READY");
    }

    [Fact]
    public async Task Config_EqualsHttp()
    {
        var grpc = await server.Grpc.GetModelConfigAsync("no_batch");
        var http = await server.Http.GetModelConfigAsync("no_batch");

        grpc.Name.Should().Be("no_batch");
        grpc.MaxBatchSize.Should().Be(http.MaxBatchSize).And.Be(0);
        grpc.Platform.Should().Be(http.Platform);
        grpc.Input.Select(i => (i.Name, i.DataType, string.Join(",", i.Dims))).Should().Equal(http.Input.Select(i => (i.Name, i.DataType, string.Join(",", i.Dims))));
        grpc.Output.Select(i => (i.Name, i.DataType, string.Join(",", i.Dims))).Should().Equal(http.Output.Select(i => (i.Name, i.DataType, string.Join(",", i.Dims))));
    }

    [Fact]
    public async Task Statistics_CountGrpcInferences_AsHttpReportsThem()
    {
        using var reference = InferTests.ReadReference("scalar_out");
        var inputs = reference.RootElement.GetProperty("inputs").EnumerateArray().Select(InferTests.ToInput).ToList();
        var before = (await server.Grpc.GetStatisticsAsync("scalar_out")).ModelStats.Single();

        await server.Grpc.InferAsync("scalar_out", inputs);
        var grpc = (await server.Grpc.GetStatisticsAsync("scalar_out")).ModelStats.Single();
        var http = (await server.Http.GetStatisticsAsync("scalar_out")).ModelStats.Single();

        grpc.InferenceStats.Success.Count.Should().Be(before.InferenceStats.Success.Count + 1);
        grpc.Name.Should().Be("scalar_out");
        grpc.Version.Should().Be(http.Version);
        grpc.InferenceStats.Success.Should().Be(http.InferenceStats.Success);
        grpc.InferenceStats.ComputeInfer.Should().Be(http.InferenceStats.ComputeInfer);
        grpc.BatchStats.Should().BeEquivalentTo(http.BatchStats);
        (await server.Grpc.GetStatisticsAsync()).ModelStats.Select(s => s.Name).Should().Contain("scalar_out");
    }

    [Fact]
    public async Task Errors_AreMaaSExceptionsWithHttpStatuses()
    {
        var unknown = () => server.Grpc.InferAsync("nope", [InferInput.Create<float>("x", new float[4], 1, 4)]);
        var badShape = () => server.Grpc.InferAsync("scalar_out", [InferInput.Create<float>("x", new float[4], 1, 4)]);
        var badShapeHttp = () => server.Http.InferAsync("scalar_out", [InferInput.Create<float>("x", new float[4], 1, 4)]);
        var unknownMetadata = () => server.Grpc.GetModelMetadataAsync("nope");

        (await unknown.Should().ThrowAsync<MaaSException>()).Which.StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await unknownMetadata.Should().ThrowAsync<MaaSException>()).Which.StatusCode.Should().Be(HttpStatusCode.NotFound);
        var grpcError = (await badShape.Should().ThrowAsync<MaaSException>()).Which;
        var httpError = (await badShapeHttp.Should().ThrowAsync<MaaSException>()).Which;
        grpcError.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        grpcError.Message.Should().Be(httpError.Message, "both routes share the server's checks");
    }

    [Fact]
    public async Task HttpOnlyCalls_GoOverHttp()
    {
        using var reference = InferTests.ReadReference("linear");
        var inputs = reference.RootElement.GetProperty("inputs").EnumerateArray().Select(InferTests.ToInput).ToList();

        var explanation = await server.Grpc.ExplainAsync("linear", inputs);
        var view = await server.Grpc.GetModelViewAsync("linear");

        explanation.Attributions.Should().ContainSingle(a => a.Name == "x");
        view.Versions.Should().ContainSingle(v => v.Version == "1" && v.State == "READY");
    }

    [Fact]
    public async Task UnreachableServer_IsMaaSExceptionWithoutStatus()
    {
        var services = new ServiceCollection();
        services.AddMaaSClient(o =>
        {
            o.BaseAddress = new Uri("http://127.0.0.1:9");
            o.GrpcAddress = new Uri("http://127.0.0.1:9");
            o.Transport = MaaSTransport.Grpc;
            o.MaxRetries = 0;
        });
        await using var provider = services.BuildServiceProvider();

        var act = () => provider.GetRequiredService<IMaaSClient>().IsLiveAsync();

        var error = (await act.Should().ThrowAsync<MaaSException>()).Which;
        error.StatusCode.Should().BeNull();
        error.Message.Should().StartWith("cannot reach the server");
    }

    [Theory]
    [InlineData(Grpc.Core.StatusCode.InvalidArgument, HttpStatusCode.BadRequest)]
    [InlineData(Grpc.Core.StatusCode.NotFound, HttpStatusCode.NotFound)]
    [InlineData(Grpc.Core.StatusCode.Unauthenticated, HttpStatusCode.Unauthorized)]
    [InlineData(Grpc.Core.StatusCode.PermissionDenied, HttpStatusCode.Forbidden)]
    [InlineData(Grpc.Core.StatusCode.Unavailable, HttpStatusCode.ServiceUnavailable)]
    [InlineData(Grpc.Core.StatusCode.ResourceExhausted, HttpStatusCode.TooManyRequests)]
    [InlineData(Grpc.Core.StatusCode.Unimplemented, HttpStatusCode.NotImplemented)]
    [InlineData(Grpc.Core.StatusCode.Internal, HttpStatusCode.InternalServerError)]
    public void GrpcStatus_MapsToItsHttpTwin(Grpc.Core.StatusCode grpc, HttpStatusCode http) => MaaSGrpcClient.ToHttpStatus(grpc).Should().Be(http);

    [Fact]
    public void Options_GrpcWithoutAddress_AreRefused()
    {
        var services = new ServiceCollection();
        services.AddMaaSClient(o =>
        {
            o.BaseAddress = new Uri("http://localhost:8000");
            o.Transport = MaaSTransport.Grpc;
        });
        using var provider = services.BuildServiceProvider();

        var act = () => provider.GetRequiredService<IMaaSClient>();

        act.Should().Throw<Microsoft.Extensions.Options.OptionsValidationException>().WithMessage("*GrpcAddress*");
    }
}

/// <summary>Load, unload, labels, API keys and cancellation through the gRPC transport on servers of the tests' own.</summary>
public sealed class GrpcRepositoryTests
{
    [Fact]
    public async Task ApiKey_GoesInTheMetadata_AndItsAbsenceIs401()
    {
        using var repository = new TempRepository().CopyModel(RepositoryPaths.Models, "mlp");
        await using var app = new GrpcApplication(repository.Path, new Dictionary<string, string?>
        {
            ["MaaS:Auth:ApiKeys:0:Key"] = "client-tests-key",
            ["MaaS:Auth:ApiKeys:0:Role"] = "inference",
        });
        (await app.CreateReadyClientAsync()).Dispose();
        void Grpc(MaaSClientOptions o)
        {
            o.Transport = MaaSTransport.Grpc;
            o.GrpcAddress = app.Server.BaseAddress;
            o.ConfigureGrpcChannel = channel => channel.HttpHandler = app.Server.CreateHandler();
        }

        await using var withKey = ServerWithClient.CreateServices(app, o => { Grpc(o); o.ApiKey = "client-tests-key"; });
        await using var withoutKey = ServerWithClient.CreateServices(app, Grpc);
        var input = InferInput.Create<float>("input", new float[4], 1, 4);

        var result = await withKey.GetRequiredService<IMaaSClient>().InferAsync("mlp", [input]);
        var refused = () => withoutKey.GetRequiredService<IMaaSClient>().InferAsync("mlp", [input]);

        result.Outputs.Should().ContainSingle(o => o.Name == "logits");
        (await refused.Should().ThrowAsync<MaaSException>()).Which.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Cancelled_ThrowsOperationCanceled()
    {
        await using var server = new GrpcServerWithClient(RepositoryPaths.Models);
        await server.InitializeAsync();
        using var cancellation = new CancellationTokenSource();
        await cancellation.CancelAsync();

        var act = () => server.Grpc.InferAsync("mlp", [InferInput.Create<float>("input", new float[4], 1, 4)], cancellationToken: cancellation.Token);

        await act.Should().ThrowAsync<OperationCanceledException>();
    }

    [Fact]
    public async Task LoadUnloadAndInferByLabel_OverGrpc()
    {
        using var repository = new TempRepository().CopyModel(RepositoryPaths.Models, "mlp");
        await using var server = new GrpcServerWithClient(repository.Path);
        await server.InitializeAsync();
        var client = server.Grpc;
        await using (var onnx = File.OpenRead(Path.Combine(RepositoryPaths.Models, "mlp", "1", "model.onnx")))
        {
            (await client.UploadVersionAsync("mlp", onnx)).Version.Should().Be(2);
        }

        await client.SetLabelAsync("mlp", "stable", 1);
        var byLabel = await client.InferAsync("mlp", [InferInput.Create<float>("input", new float[4], 1, 4)], new InferOptions { Version = ModelVersion.OfLabel("stable") });
        var byNumber = await client.InferAsync("mlp", [InferInput.Create<float>("input", new float[4], 1, 4)], new InferOptions { Version = ModelVersion.Of(2) });
        byLabel.ModelVersion.Should().Be("1");
        byNumber.ModelVersion.Should().Be("2");

        await client.UnloadModelAsync("mlp");
        (await server.Http.IsModelReadyAsync("mlp")).Should().BeFalse();
        await client.LoadModelAsync("mlp");
        (await server.Http.IsModelReadyAsync("mlp")).Should().BeTrue();
        var missing = () => client.LoadModelAsync("nope");
        (await missing.Should().ThrowAsync<MaaSException>()).Which.StatusCode.Should().NotBeNull();
    }
}
