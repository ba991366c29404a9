using MaaS.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace MaaS.Client.Tests.Infrastructure;

/// <summary>
/// A server (in memory) with two ways in: <see cref="Raw"/>, the plain HttpClient the server tests trust, and
/// <see cref="Client"/>, the library under test registered as an application would (AddMaaSClient, retries).
/// </summary>
public class ServerWithClient(MaaSApplication app) : IAsyncLifetime
{
    private ServiceProvider? _services;

    public MaaSApplication App { get; } = app;

    public HttpClient Raw { get; private set; } = null!;

    public IMaaSClient Client { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Raw = await App.CreateReadyClientAsync();
        _services = CreateServices(App, _ => { });
        Client = _services.GetRequiredService<IMaaSClient>();
    }

    public static ServiceProvider CreateServices(MaaSApplication app, Action<MaaSClientOptions> configure)
    {
        var services = new ServiceCollection();
        services.AddMaaSClient(o =>
            {
                o.BaseAddress = app.Server.BaseAddress;
                o.RetryDelay = TimeSpan.FromMilliseconds(1);
                configure(o);
            })
            .ConfigurePrimaryHttpMessageHandler(() => app.Server.CreateHandler());
        return services.BuildServiceProvider();
    }

    public async Task DisposeAsync()
    {
        Raw.Dispose();
        if (_services is not null)
        {
            await _services.DisposeAsync();
        }

        await App.DisposeAsync();
    }
}

public sealed class ZooServer() : ServerWithClient(new ZooApplication());

public sealed class BundledServer() : ServerWithClient(new MaaSApplication());
