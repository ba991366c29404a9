using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using MaaS.Core.Inference;
using MaaS.Core.Registry;
using MaaS.Core.Sessions;
using MaaS.Core.Tests.Infrastructure;

namespace MaaS.Core.Tests;

/// <summary>The loaded-model budget over a copy of four bundled models: 4 models, 5 versions.</summary>
public sealed class LoadedModelCacheTests : IDisposable
{
    private static readonly (string Model, int Version)[] Bundled = [("mlp", 1), ("cnn", 1), ("rnn", 2), ("transformer", 1)];

    private readonly TempDirectory _repository = new();

    public LoadedModelCacheTests()
    {
        foreach (var model in new[] { "mlp", "cnn", "rnn", "transformer" })
        {
            Copy(Path.Combine(RepositoryPaths.Models, model), Path.Combine(_repository.Path, model));
        }
    }

    public void Dispose() => _repository.Dispose();

    [Fact]
    public async Task LoadAll_WithBudgetOfTwo_LeavesAtMostTwoLoadedAndTheRestEvicted()
    {
        await using var harness = await StartAsync(new SessionsOptions { MaxLoadedVersions = 2 });
        var (cache, registry) = (harness.Cache, harness.Registry);
        {
            registry.LoadedVersions.Should().HaveCount(2);
            var evicted = registry.Models.SelectMany(model => model.Versions.Values).Where(version => version.IsEvicted).ToList();
            evicted.Should().HaveCount(3).And.OnlyContain(version => version.Reason == "evicted" && version.IsRoutable);
            registry.IsReady.Should().BeTrue("evicted versions still serve");
        }
    }

    [Fact]
    public async Task AcquireAsync_EveryModelInAnyOrder_AnswersLikePyTorchAndNeverHoldsMoreThanTwo()
    {
        await using var harness = await StartAsync(new SessionsOptions { MaxLoadedVersions = 2 });
        var (cache, registry) = (harness.Cache, harness.Registry);
        {
            foreach (var (model, version) in Bundled.Concat(Bundled.Reverse()).Concat(Bundled))
            {
                await RunReferenceAsync(cache, model, version);
                registry.LoadedVersions.Count().Should().BeLessThanOrEqualTo(2);
            }

            cache.Evictions.Should().BeGreaterThan(0);
        }
    }

    [Fact]
    public async Task AcquireAsync_ConcurrentRequestsForOneEvictedVersion_ShareOneLoad()
    {
        await using var harness = await StartAsync(new SessionsOptions { MaxLoadedVersions = 1 });
        var (cache, registry) = (harness.Cache, harness.Registry);
        {
            var evicted = registry.Models.First(model => model.Versions.Values.Any(version => version.IsEvicted)).Name;
            var loadsBefore = cache.Loads;

            var leases = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => cache.AcquireAsync(evicted, null, null, CancellationToken.None)));
            foreach (var lease in leases)
            {
                lease.Dispose();
            }

            (cache.Loads - loadsBefore).Should().Be(1);
        }
    }

    [Fact]
    public async Task Budget_LabelledAndPinnedVersions_AreNeverEvicted()
    {
        await File.WriteAllTextAsync(Path.Combine(_repository.Path, "mlp", "config.json"), """{"labels": {"stable": 1}}""");
        await File.WriteAllTextAsync(Path.Combine(_repository.Path, "cnn", "config.json"), """{"pinned": true}""");
        await using var harness = await StartAsync(new SessionsOptions { MaxLoadedVersions = 1 });
        var (cache, registry) = (harness.Cache, harness.Registry);
        {
            foreach (var (model, version) in Bundled)
            {
                await RunReferenceAsync(cache, model, version);
            }

            registry.GetVersion("mlp", 1).IsEvicted.Should().BeFalse();
            registry.GetVersion("cnn", 1).IsEvicted.Should().BeFalse();
        }
    }

    [Fact]
    public async Task AcquireAsync_EvictedVersionWhoseFilesWereDeleted_IsNotFound()
    {
        await using var harness = await StartAsync(new SessionsOptions { MaxLoadedVersions = 1 });
        var (cache, registry) = (harness.Cache, harness.Registry);
        {
            var evicted = registry.Models.First(model => model.Versions.Values.Any(version => version.IsEvicted)).Name;
            Directory.Delete(Path.Combine(_repository.Path, evicted), recursive: true);

            var act = () => cache.AcquireAsync(evicted, null, null, CancellationToken.None);

            (await act.Should().ThrowAsync<ServingException>()).Which.Kind.Should().BeOneOf(FailureKind.ModelNotFound, FailureKind.VersionNotFound);
        }
    }

    [Fact]
    public async Task Budget_OneByteOfMemory_StillServesEveryRequest()
    {
        await using var harness = await StartAsync(new SessionsOptions { MemoryBudgetBytes = 1 });
        var (cache, registry) = (harness.Cache, harness.Registry);
        {
            foreach (var (model, version) in Bundled)
            {
                await RunReferenceAsync(cache, model, version);
            }

            registry.LoadedVersions.Count().Should().BeLessThanOrEqualTo(1, "an idle version over the budget is evicted as soon as its request ends");
        }
    }

    private Task<RegistryHarness> StartAsync(SessionsOptions sessions) => RegistryHarness.StartAsync(_repository.Path, sessions);

    private static async Task RunReferenceAsync(LoadedModelCache cache, string model, int version)
    {
        using var reference = JsonDocument.Parse(await File.ReadAllBytesAsync(Path.Combine(RepositoryPaths.References, model, $"{version}.json")));
        var body = new JsonObject { ["inputs"] = JsonNode.Parse(reference.RootElement.GetProperty("inputs").GetRawText()) };
        using var lease = await cache.AcquireAsync(model, null, null, CancellationToken.None);
        using var request = InferRequestReader.Read(JsonSerializer.SerializeToUtf8Bytes(body), ReadOnlyMemory<byte>.Empty, lease.Model.Signature);
        using var result = await lease.Model.RunAsync(request, CancellationToken.None);
        foreach (var expected in reference.RootElement.GetProperty("outputs").EnumerateArray())
        {
            var output = result.Outputs.Single(o => o.Name == expected.GetProperty("name").GetString());
            var actual = MemoryMarshal.Cast<byte, float>(output.FixedData).ToArray();
            var wanted = expected.GetProperty("data").EnumerateArray().Select(value => value.GetSingle()).ToArray();
            actual.Should().Equal(wanted, (a, b) => Math.Abs(a - b) < 1e-4, "{0} v{1} output {2}", model, version, output.Name);
        }
    }

    private static void Copy(string source, string destination)
    {
        Directory.CreateDirectory(destination);
        foreach (var file in Directory.GetFiles(source))
        {
            File.Copy(file, Path.Combine(destination, Path.GetFileName(file)));
        }

        foreach (var directory in Directory.GetDirectories(source))
        {
            Copy(directory, Path.Combine(destination, Path.GetFileName(directory)));
        }
    }
}
