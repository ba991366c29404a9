using Grpc.Core;
using Grpc.Core.Interceptors;
using Inference;
using MaaS.Server.Tests.Infrastructure;

namespace MaaS.Server.Tests.Grpc;

/// <summary>The HTTP API keys and roles over gRPC: the key in <c>authorization: Bearer</c> or <c>x-api-key</c> metadata.</summary>
public sealed class GrpcAuthTests(GrpcAuthTests.KeyedApplication app) : IClassFixture<GrpcAuthTests.KeyedApplication>
{
    [Fact]
    public async Task ModelInfer_NoKey_UnauthenticatedWithTheHttpMessage()
    {
        var client = await app.CreateReadyGrpcClientAsync();

        var call = () => client.ModelInferAsync(GrpcRequests.Raw(ReferenceCase.Bundled("mlp", 1), "mlp")).ResponseAsync;

        var error = (await call.Should().ThrowAsync<RpcException>()).Which;
        error.StatusCode.Should().Be(StatusCode.Unauthenticated);
        error.Status.Detail.Should().Be("a valid API key is required: send 'Authorization: Bearer <key>' or 'X-API-Key: <key>'");
    }

    [Fact]
    public async Task ModelInfer_WrongKey_Unauthenticated()
    {
        var client = await app.CreateReadyGrpcClientAsync("not-a-key-0123456789");

        var call = () => client.ModelMetadataAsync(new ModelMetadataRequest { Name = "mlp" }).ResponseAsync;

        (await call.Should().ThrowAsync<RpcException>()).Which.StatusCode.Should().Be(StatusCode.Unauthenticated);
    }

    [Theory]
    [InlineData(ApiKeyServerFixture.InferenceKey)]
    [InlineData(ApiKeyServerFixture.AdminKey)]
    public async Task ModelInfer_BearerKey_Answers(string key)
    {
        var client = await app.CreateReadyGrpcClientAsync(key);

        var response = await client.ModelInferAsync(GrpcRequests.Raw(ReferenceCase.Bundled("mlp", 1), "mlp"));

        response.Outputs.Should().NotBeEmpty();
    }

    [Fact]
    public async Task ModelInfer_XApiKeyMetadata_Answers()
    {
        (await app.CreateReadyClientAsync()).Dispose();
        using var channel = app.CreateChannel();
        var client = new GRPCInferenceService.GRPCInferenceServiceClient(channel.Intercept(metadata =>
        {
            metadata.Add("x-api-key", ApiKeyServerFixture.InferenceKey);
            return metadata;
        }));

        var response = await client.ModelInferAsync(GrpcRequests.Raw(ReferenceCase.Bundled("mlp", 1), "mlp"));

        response.ModelName.Should().Be("mlp");
    }

    [Fact]
    public async Task RepositoryModelUnload_InferenceKey_PermissionDenied()
    {
        var client = await app.CreateReadyGrpcClientAsync(ApiKeyServerFixture.InferenceKey);

        var call = () => client.RepositoryModelUnloadAsync(new RepositoryModelUnloadRequest { ModelName = "mlp" }).ResponseAsync;

        var error = (await call.Should().ThrowAsync<RpcException>()).Which;
        error.StatusCode.Should().Be(StatusCode.PermissionDenied);
        error.Status.Detail.Should().Contain("needs an admin key");
        (await client.ModelReadyAsync(new ModelReadyRequest { Name = "mlp" })).Ready.Should().BeTrue("the model must still serve");
    }

    [Fact]
    public async Task ServerLive_NoKey_Answers()
    {
        var client = await app.CreateReadyGrpcClientAsync();

        (await client.ServerLiveAsync(new ServerLiveRequest())).Live.Should().BeTrue("health is open, as over HTTP");
    }

    public sealed class KeyedApplication() : GrpcApplication(RepositoryPaths.SmallModels, new Dictionary<string, string?>
    {
        ["MaaS:Auth:ApiKeys:0:Key"] = ApiKeyServerFixture.AdminKey,
        ["MaaS:Auth:ApiKeys:0:Role"] = "admin",
        ["MaaS:Auth:ApiKeys:1:Key"] = ApiKeyServerFixture.InferenceKey,
        ["MaaS:Auth:ApiKeys:1:Role"] = "inference",
    });
}
