using MaaS.Core.Registry;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace MaaS.Server.Tests.Infrastructure;

/// <summary>
/// The server over HTTP (in memory), serving a model repository: by default the bundled one without all-MiniLM-L6-v2
/// (<see cref="RepositoryPaths.SmallModels"/>). Models load in the background; <see cref="CreateReadyClientAsync"/>
/// waits until startup loading has finished.
/// </summary>
public class MaaSApplication : WebApplicationFactory<Program>
{
    private readonly string _repository;
    private readonly Dictionary<string, string?> _settings;

    public MaaSApplication()
        : this(RepositoryPaths.SmallModels)
    {
    }

    protected MaaSApplication(string repository, IDictionary<string, string?>? settings = null)
    {
        _repository = repository;
        _settings = new Dictionary<string, string?>(settings ?? new Dictionary<string, string?>());
    }

    public async Task<HttpClient> CreateReadyClientAsync()
    {
        var client = CreateClient();
        var registry = Services.GetRequiredService<ModelRegistry>();
        for (var i = 0; i < 600 && !registry.StartupComplete; i++)
        {
            await Task.Delay(50);
        }

        registry.StartupComplete.Should().BeTrue("the repository should load within 30 s");
        return client;
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("MaaS:ModelRepository", _repository);

        // Tests stop their servers right away: no load balancer needs time to notice.
        builder.UseSetting("MaaS:Shutdown:DelaySeconds", "0");

        // No gRPC unless a test asks for it (GrpcApplication): a test host must never hold port 8001.
        builder.UseSetting("MaaS:Grpc:Port", "0");
        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
        }
    }
}
