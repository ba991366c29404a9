namespace MaaS.Server.Tests.Infrastructure;

/// <summary>
/// One server on its own temp copy of the bundled mlp, shared by the tests of a class that leave the repository as
/// they found it (failed changes, reads). Tests in a class run one after another, so each can compare before and after.
/// </summary>
public abstract class ServerFixture(IDictionary<string, string?>? settings = null) : IAsyncLifetime
{
    public TempRepository Repository { get; } = new TempRepository().CopyModel(RepositoryPaths.Models, "mlp");

    public RepositoryApplication App { get; private set; } = null!;

    public HttpClient Client { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        App = new RepositoryApplication(Repository.Path, settings);
        Client = await App.CreateReadyClientAsync();
    }

    public async Task DisposeAsync()
    {
        Client.Dispose();
        await App.DisposeAsync();
        Repository.Dispose();
    }
}

/// <summary>The server on a copy of the mlp, without API keys (in-memory callers count as local, so management is allowed).</summary>
public sealed class MlpServerFixture : ServerFixture;

/// <summary>The server on a copy of the mlp with two API keys: <see cref="AdminKey"/> (admin) and <see cref="InferenceKey"/> (inference).</summary>
public sealed class ApiKeyServerFixture() : ServerFixture(new Dictionary<string, string?>
{
    ["MaaS:Auth:ApiKeys:0:Key"] = AdminKey,
    ["MaaS:Auth:ApiKeys:0:Role"] = "admin",
    ["MaaS:Auth:ApiKeys:1:Key"] = InferenceKey,
    ["MaaS:Auth:ApiKeys:1:Role"] = "inference",
})
{
    public const string AdminKey = "admin-key-0123456789abcdef";

    public const string InferenceKey = "inference-key-0123456789abcdef";
}
