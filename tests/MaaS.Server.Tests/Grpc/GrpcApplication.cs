using Grpc.Core.Interceptors;
using Grpc.Net.Client;
using Inference;
using MaaS.Server.Tests.Infrastructure;

namespace MaaS.Server.Tests.Grpc;

/// <summary>
/// The server with its gRPC service on, reached in memory: the test server carries HTTP/2 gRPC calls through its
/// handler, so no port is bound (the configured port only switches the service on).
/// </summary>
public class GrpcApplication : MaaSApplication
{
    public GrpcApplication()
        : this(RepositoryPaths.SmallModels)
    {
    }

    protected GrpcApplication(string repository, IDictionary<string, string?>? settings = null)
        : base(repository, WithGrpc(settings))
    {
    }

    /// <summary>A client on a new channel; <paramref name="apiKey"/> goes in the authorization metadata as a bearer token.</summary>
    public GRPCInferenceService.GRPCInferenceServiceClient CreateGrpcClient(string? apiKey = null)
    {
        var channel = GrpcChannel.ForAddress(Server.BaseAddress, new GrpcChannelOptions
        {
            HttpHandler = Server.CreateHandler(),
            MaxReceiveMessageSize = null,
            MaxSendMessageSize = null,
            DisposeHttpClient = true,
        });
        var invoker = apiKey is null
            ? channel.CreateCallInvoker()
            : channel.CreateCallInvoker().Intercept(metadata =>
            {
                metadata.Add("authorization", $"Bearer {apiKey}");
                return metadata;
            });
        return new GRPCInferenceService.GRPCInferenceServiceClient(invoker);
    }

    public GrpcChannel CreateChannel() =>
        GrpcChannel.ForAddress(Server.BaseAddress, new GrpcChannelOptions { HttpHandler = Server.CreateHandler(), DisposeHttpClient = true });

    /// <summary>Waits until the startup models are loaded.</summary>
    public async Task<GRPCInferenceService.GRPCInferenceServiceClient> CreateReadyGrpcClientAsync(string? apiKey = null)
    {
        (await CreateReadyClientAsync()).Dispose();
        return CreateGrpcClient(apiKey);
    }

    private static Dictionary<string, string?> WithGrpc(IDictionary<string, string?>? settings)
    {
        // Any port but 0 turns the service on; the test server binds none.
        var all = new Dictionary<string, string?> { ["MaaS:Grpc:Port"] = "8001" };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            all[key] = value;
        }

        return all;
    }
}

/// <summary>A gRPC server of a test's own, on its repository and settings. Dispose it after the test.</summary>
public sealed class ConfiguredGrpcApplication(string repository, IDictionary<string, string?>? settings = null) : GrpcApplication(repository, settings);

/// <summary>The gRPC server on tests/fixtures/zoo.</summary>
public sealed class GrpcZooApplication() : GrpcApplication(RepositoryPaths.Zoo);

/// <summary>Test classes in this collection share one gRPC server on the bundled models.</summary>
[CollectionDefinition(Name)]
public sealed class GrpcBundledGroup : ICollectionFixture<GrpcApplication>
{
    public const string Name = "grpc bundled models";
}

/// <summary>Test classes in this collection share one gRPC server on the zoo.</summary>
[CollectionDefinition(Name)]
public sealed class GrpcZooGroup : ICollectionFixture<GrpcZooApplication>
{
    public const string Name = "grpc zoo models";
}
