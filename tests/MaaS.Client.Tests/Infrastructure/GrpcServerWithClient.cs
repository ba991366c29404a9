using MaaS.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace MaaS.Client.Tests.Infrastructure;

/// <summary>The server with its gRPC service on (reached in memory: the test server carries HTTP/2 calls, no port is bound).</summary>
public sealed class GrpcApplication(string repository, IDictionary<string, string?>? settings = null)
    : MaaSApplication(repository, new Dictionary<string, string?>(settings ?? new Dictionary<string, string?>()) { ["MaaS:Grpc:Port"] = "8001" });

/// <summary>
/// A gRPC-enabled server with <see cref="Http"/>, the HTTP client, and <see cref="Grpc"/>, the client registered with
/// <c>Transport = Grpc</c> as an application would (AddMaaSClient), its channel over the in-memory server.
/// </summary>
public class GrpcServerWithClient(string repository) : IAsyncLifetime
{
    private ServiceProvider? _http;
    private ServiceProvider? _grpc;

    public GrpcApplication App { get; } = new(repository);

    public IMaaSClient Http { get; private set; } = null!;

    public IMaaSClient Grpc { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        (await App.CreateReadyClientAsync()).Dispose();
        _http = ServerWithClient.CreateServices(App, _ => { });
        Http = _http.GetRequiredService<IMaaSClient>();
        _grpc = ServerWithClient.CreateServices(App, o =>
        {
            o.Transport = MaaSTransport.Grpc;
            o.GrpcAddress = App.Server.BaseAddress;
            o.ConfigureGrpcChannel = channel => channel.HttpHandler = App.Server.CreateHandler();
        });
        Grpc = _grpc.GetRequiredService<IMaaSClient>();
    }

    public async Task DisposeAsync()
    {
        if (_http is not null)
        {
            await _http.DisposeAsync();
        }

        if (_grpc is not null)
        {
            await _grpc.DisposeAsync();
        }

        await App.DisposeAsync();
    }
}

public sealed class GrpcZooServer() : GrpcServerWithClient(RepositoryPaths.Zoo);

public sealed class GrpcBundledServer() : GrpcServerWithClient(RepositoryPaths.Models);
