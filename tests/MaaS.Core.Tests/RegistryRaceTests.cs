using MaaS.Core.Registry;
using MaaS.Core.Sessions;
using MaaS.Core.Tests.Infrastructure;

namespace MaaS.Core.Tests;

/// <summary>
/// The writer and the loaded-model cache on one registry, with their interleavings forced by a gate inside a load
/// (no sleeps): model b publishes a new version while traffic on model a evicts b's previous one.
/// </summary>
public sealed class RegistryRaceTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private readonly TempDirectory _repository = new();

    public RegistryRaceTests()
    {
        // a, b and c are three copies of the mlp; b serves every version it has. Budget: two loaded versions.
        foreach (var name in new[] { "a", "b", "c" })
        {
            var policy = name == "b" ? ",\"version_policy\":{\"all\":{}}" : "";
            _repository.WriteFile($"{name}/config.json", $"{{\"max_batch_size\":64{policy}}}");
            _repository.WriteFile($"{name}/1/model.onnx", File.ReadAllBytes(MlpFile));
        }
    }

    private static string MlpFile => Path.Combine(RepositoryPaths.Models, "mlp", "1", "model.onnx");

    public void Dispose() => _repository.Dispose();

    [Fact]
    public async Task Publish_WhileAnotherModelsTrafficGoesOverBudget_TheReusedVersionStaysServable()
    {
        GatedStore? gated = null;
        await using var harness = await RegistryHarness.StartAsync(
            _repository.Path, new SessionsOptions { MaxLoadedVersions = 2 }, store => gated = new GatedStore(store, "b", 2));
        using var _ = gated;
        var (cache, registry) = (harness.Cache, harness.Registry);

        // Startup loaded a, b, c in that order and evicted the least recently used, a: b v1 is now the oldest loaded.
        registry.GetVersion("a", 1).IsEvicted.Should().BeTrue();
        registry.GetVersion("b", 1).State.Should().Be(ModelVersionState.Ready);

        // b gets a version 2; its sync reuses v1 and stops inside the load of v2.
        _repository.WriteFile("b/2/model.onnx", await File.ReadAllBytesAsync(MlpFile));
        var sync = Task.Run(() => harness.Manager.SyncAsync("b", force: false, CancellationToken.None));
        gated!.Entered.WaitOne(Patience).Should().BeTrue("b's sync reaches the load of version 2");

        // Traffic on a loads it again: three loaded, one over budget, and b v1 is the least recently used.
        using (var lease = await cache.AcquireAsync("a", null, null, CancellationToken.None))
        {
            lease.VersionNumber.Should().Be(1);
        }

        registry.GetVersion("b", 1).IsEvicted.Should().BeFalse("b is being changed: the eviction skipped it instead of racing its publish");
        registry.GetVersion("c", 1).IsEvicted.Should().BeTrue("the budget was kept by evicting the next idle version");

        gated.Open();
        await sync.WaitAsync(Patience);

        registry.GetModel("b").Versions.Keys.Should().Equal(1, 2);
        foreach (var number in new long[] { 1, 2 })
        {
            using var lease = await cache.AcquireAsync("b", number, null, CancellationToken.None).WaitAsync(Patience);
            lease.VersionNumber.Should().Be(number, "no version is left published without references (a 503 'being replaced' forever)");
        }
    }

    [Fact]
    public async Task Publish_AfterTheEntryMovedOnUnderIt_PreparesAgainAndNeverPublishesARetiredVersion()
    {
        GatedStore? gated = null;
        await using var harness = await RegistryHarness.StartAsync(
            _repository.Path, new SessionsOptions(), store => gated = new GatedStore(store, "b", 2));
        using var _ = gated;
        var registry = harness.Registry;
        var v1 = registry.GetVersion("b", 1);

        _repository.WriteFile("b/2/model.onnx", await File.ReadAllBytesAsync(MlpFile));
        var sync = Task.Run(() => harness.Manager.SyncAsync("b", force: false, CancellationToken.None));
        gated!.Entered.WaitOne(Patience).Should().BeTrue();

        // An eviction that ignores the model's lock (the shape of the old request path) swaps v1 out mid-change.
        registry.TryReplaceVersion("b", v1, ModelVersion.Evicted(1, v1.File)).Should().BeTrue();
        gated.Open();
        await sync.WaitAsync(Patience);

        var published = registry.GetModel("b");
        published.Versions.Keys.Should().Equal(1, 2);
        published.Versions[1].IsEvicted.Should().BeTrue("the compare-and-swap saw the entry had moved on and prepared again from it");
        published.Versions.Values.Should().OnlyContain(version => version.IsAlive);
        v1.IsAlive.Should().BeFalse("the evicted session was disposed once the writer let go of it");
        using var lease = await harness.Cache.AcquireAsync("b", 1, null, CancellationToken.None).WaitAsync(Patience);
        lease.VersionNumber.Should().Be(1);
    }

    [Fact]
    public async Task TryPublish_RetiredVersion_IsRefused()
    {
        await using var harness = await RegistryHarness.StartAsync(_repository.Path, new SessionsOptions());
        var registry = harness.Registry;
        var current = registry.GetModel("b");
        var v1 = current.Versions[1];
        registry.TryReplaceVersion("b", v1, ModelVersion.Evicted(1, v1.File)).Should().BeTrue();
        v1.IsAlive.Should().BeFalse();

        var republish = () => registry.TryPublish(registry.GetModel("b"), new RegisteredModel(current.Directory, current.Versions));
        var reinstate = () => registry.TryReplaceVersion("b", registry.GetVersion("b", 1), v1);

        republish.Should().Throw<InvalidOperationException>().WithMessage("*retired*");
        reinstate.Should().Throw<InvalidOperationException>().WithMessage("*retired*");
        registry.GetVersion("b", 1).IsEvicted.Should().BeTrue("nothing was published");
    }

    [Fact]
    public async Task TryPublish_FromAStaleEntry_IsRefused()
    {
        await using var harness = await RegistryHarness.StartAsync(_repository.Path, new SessionsOptions());
        var registry = harness.Registry;
        var stale = registry.GetModel("c");
        var v1 = stale.Versions[1];
        registry.TryReplaceVersion("c", v1, ModelVersion.Evicted(1, v1.File)).Should().BeTrue();

        registry.TryPublish(stale, new RegisteredModel(stale.Directory, stale.Versions.Remove(1))).Should().BeFalse();
        registry.GetVersion("c", 1).IsEvicted.Should().BeTrue();
    }

    [Fact]
    public async Task Dispose_WhileAnEvictedVersionReloads_WaitsForTheReload()
    {
        GatedStore? gated = null;
        var harness = await RegistryHarness.StartAsync(
            _repository.Path, new SessionsOptions { MaxLoadedVersions = 2 }, store => gated = new GatedStore(store, "a", 1));
        using var _ = gated;
        harness.Registry.GetVersion("a", 1).IsEvicted.Should().BeTrue();
        var request = harness.Cache.AcquireAsync("a", null, null, CancellationToken.None);
        gated!.Entered.WaitOne(Patience).Should().BeTrue();
        harness.Cache.ReloadsInProgress.Should().Be(1);

        var disposing = harness.Cache.DisposeAsync().AsTask();
        disposing.IsCompleted.Should().BeFalse("shutdown waits for the reload in flight");
        gated.Open();
        await disposing.WaitAsync(Patience);

        harness.Cache.ReloadsInProgress.Should().Be(0);
        (await request.WaitAsync(Patience)).Dispose();
        var late = () => harness.Cache.AcquireAsync("c", null, null, CancellationToken.None);
        if (harness.Registry.GetVersion("c", 1).IsEvicted)
        {
            (await late.Should().ThrowAsync<ServingException>()).Which.Message.Should().Contain("shutting down");
        }

        harness.Registry.Dispose();
    }
}
