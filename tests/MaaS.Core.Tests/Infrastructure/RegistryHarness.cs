using MaaS.Core.Registry;
using MaaS.Core.Repository;
using MaaS.Core.Sessions;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace MaaS.Core.Tests.Infrastructure;

/// <summary>The registry core as the server wires it (store, loader, registry, locks, cache, writer) over one repository directory.</summary>
internal sealed class RegistryHarness : IAsyncDisposable
{
    public RegistryHarness(string repository, SessionsOptions sessions, Func<IModelStore, IModelStore>? wrapStore = null)
    {
        var options = Options.Create(new MaaSOptions { ModelRepository = repository });
        Registry = new ModelRegistry(options);
        IModelStore store = new DiskModelStore(options, TimeProvider.System);
        Store = wrapStore?.Invoke(store) ?? store;
        Locks = new ModelLocks();
        var loader = new VersionLoader(Store, TestLoaders.Create(sessions: sessions), Registry, TimeProvider.System, NullLogger<VersionLoader>.Instance);
        Cache = new LoadedModelCache(Registry, loader, Locks, Options.Create(sessions), TimeProvider.System, NullLogger<LoadedModelCache>.Instance);
        Manager = new ModelManager(Store, loader, Registry, Locks, Cache, NullLogger<ModelManager>.Instance);
    }

    public ModelRegistry Registry { get; }

    public IModelStore Store { get; }

    public ModelLocks Locks { get; }

    public LoadedModelCache Cache { get; }

    public ModelManager Manager { get; }

    public static async Task<RegistryHarness> StartAsync(string repository, SessionsOptions sessions, Func<IModelStore, IModelStore>? wrapStore = null)
    {
        var harness = new RegistryHarness(repository, sessions, wrapStore);
        await harness.Manager.LoadAllAsync(CancellationToken.None);
        harness.Registry.MarkStartupComplete();
        return harness;
    }

    public async ValueTask DisposeAsync()
    {
        await Cache.DisposeAsync();
        Registry.Dispose();
    }
}
