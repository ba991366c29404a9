namespace MaaS.Server.Tests.Infrastructure;

/// <summary>A server of its own on a temp repository a test filled, so that counts and queues are the test's alone. Disposing it removes the repository.</summary>
public sealed class IsolatedServer : IDisposable
{
    private IsolatedServer(TempRepository repository, RepositoryApplication app, HttpClient client)
    {
        Repository = repository;
        App = app;
        Client = client;
    }

    public TempRepository Repository { get; }

    public RepositoryApplication App { get; }

    public HttpClient Client { get; }

    /// <summary>Starts on <paramref name="repository"/> (owned from here on); waits until startup loading has finished unless told not to.</summary>
    public static async Task<IsolatedServer> StartAsync(TempRepository repository, bool waitReady = true)
    {
        // No drain delay on dispose: these servers take no traffic from a load balancer.
        var app = new RepositoryApplication(repository.Path, new Dictionary<string, string?> { ["MaaS:Shutdown:DelaySeconds"] = "0" });
        var client = waitReady ? await app.CreateReadyClientAsync() : app.CreateClient();
        return new IsolatedServer(repository, app, client);
    }

    /// <summary>Starts on a temp copy of some bundled models.</summary>
    public static Task<IsolatedServer> StartAsync(params string[] models)
    {
        var repository = new TempRepository();
        foreach (var model in models)
        {
            repository.CopyModel(RepositoryPaths.Models, model);
        }

        return StartAsync(repository);
    }

    public void Dispose()
    {
        Client.Dispose();
        App.Dispose();
        Repository.Dispose();
    }
}
