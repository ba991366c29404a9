using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using MaaS.Server.Tests.Infrastructure;
using static MaaS.Server.Tests.Infrastructure.ManagementRequests;

namespace MaaS.Server.Tests;

/// <summary>
/// MaaS:RepositoryPollSeconds=1: what others change on disk (plain file copies, deletions) is served within seconds,
/// a file still being written is never loaded half-written, and a model unloaded on request stays unloaded.
/// </summary>
public sealed class PollingTests
{
    private static readonly Dictionary<string, string?> PollEverySecond = new() { ["MaaS:RepositoryPollSeconds"] = "1" };

    private static readonly TimeSpan Soon = TimeSpan.FromSeconds(6);

    private static readonly int[] Versions = [2, 3, 4, 5, 6];

    [Fact]
    public async Task Poll_VersionCopiedIn_ServesWithinSeconds()
    {
        using var repository = new TempRepository().CopyModel(RepositoryPaths.Models, "mlp");
        using var app = new RepositoryApplication(repository.Path, PollEverySecond);
        using var client = await app.CreateReadyClientAsync();
        var clock = Stopwatch.StartNew();

        Directory.CreateDirectory(Path.Combine(repository.Path, "mlp", "2"));
        File.Copy(Path.Combine(repository.Path, "mlp", "1", "model.onnx"), Path.Combine(repository.Path, "mlp", "2", "model.onnx"));

        (await EventuallyAsync(async () => await ServedVersionAsync(client) == "2", Soon)).Should().BeTrue("version 2 should serve within {0}", Soon);
        clock.Elapsed.Should().BeLessThan(Soon);
        await ShouldServeMlpAsync(client, "/v2/models/mlp/versions/2/infer", "2");
    }

    [Fact]
    public async Task Poll_ModelDirectoryCopiedIn_IsServed()
    {
        using var repository = new TempRepository().CopyModel(RepositoryPaths.Models, "mlp");
        using var app = new RepositoryApplication(repository.Path, PollEverySecond);
        using var client = await app.CreateReadyClientAsync();

        repository.CopyModel(RepositoryPaths.Models, "cnn");

        (await EventuallyAsync(async () => IndexEntry(await IndexAsync(client), "cnn", "1")?.GetProperty("state").GetString() == "READY", Soon))
            .Should().BeTrue("the new model should be READY within {0}", Soon);
        using var ready = await client.GetAsync(Relative("/v2/models/cnn/ready"));
        ready.StatusCode.Should().Be(HttpStatusCode.OK);
        (await ready.Content.ReadAsByteArrayAsync()).Should().BeEmpty();
        await ShouldServeMlpAsync(client, "/v2/models/mlp/infer", "1");
    }

    [Fact]
    public async Task Poll_VersionDeletedOnDisk_StopsServing()
    {
        using var repository = new TempRepository().CopyModel(RepositoryPaths.Models, "mlp").WriteFile("mlp/2/model.onnx", MlpFile);
        using var app = new RepositoryApplication(repository.Path, PollEverySecond);
        using var client = await app.CreateReadyClientAsync();
        await ShouldServeMlpAsync(client, "/v2/models/mlp/infer", "2");

        Directory.Delete(Path.Combine(repository.Path, "mlp", "2"), recursive: true);

        (await EventuallyAsync(async () => await ServedVersionAsync(client) == "1", Soon)).Should().BeTrue("version 1 should take over within {0}", Soon);
        using var deleted = await InferMlpAsync(client, "/v2/models/mlp/versions/2/infer");
        deleted.StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await ErrorAsync(deleted)).Should().Contain("'mlp' version 2 is not found");
        IndexEntry(await IndexAsync(client), "mlp", "2").Should().BeNull();
    }

    [Fact]
    public async Task Poll_ModelFilesWrittenSlowlyInTwoHalves_NeverLoadedHalfWritten()
    {
        using var repository = new TempRepository().CopyModel(RepositoryPaths.Models, "mlp")
            .WriteFile("mlp/config.json", MlpConfig(extra: "\"version_policy\": {\"all\": {}}"));
        using var app = new RepositoryApplication(repository.Path, PollEverySecond);
        using var client = await app.CreateReadyClientAsync();
        using var stop = new CancellationTokenSource();
        var seen = new ConcurrentBag<string>();
        var sampler = Task.Run(() => SampleIndexAsync(client, seen, stop.Token));

        // Five writers a fifth of a poll apart, each pausing 0.3 s between halves: whenever the polls fall, one sees a half file.
        var writers = Versions.Select((version, i) => WriteInTwoHalvesAsync(repository.Path, version, TimeSpan.FromMilliseconds(200 * i))).ToArray();
        await Task.WhenAll(writers);
        var served = await EventuallyAsync(
            async () => (await IndexAsync(client)).Count(entry => entry.GetProperty("state").GetString() == "READY") == 1 + Versions.Length, Soon);
        await stop.CancelAsync();
        await sampler;

        served.Should().BeTrue("the versions should be READY within {0} of being written", Soon);
        seen.Where(state => !state.EndsWith(":READY", StringComparison.Ordinal)).Should().BeEmpty("no version may ever be loaded from half a file");
        foreach (var version in Versions.Select(version => version.ToString(CultureInfo.InvariantCulture)))
        {
            await ShouldServeMlpAsync(client, $"/v2/models/mlp/versions/{version}/infer", version);
        }
    }

    [Fact]
    public async Task Poll_AfterUnload_LeavesTheModelUnloaded()
    {
        using var repository = new TempRepository().CopyModel(RepositoryPaths.Models, "mlp");
        using var app = new RepositoryApplication(repository.Path, PollEverySecond);
        using var client = await app.CreateReadyClientAsync();
        using (var unload = await client.PostAsync(Relative("/v2/repository/models/mlp/unload"), null))
        {
            unload.StatusCode.Should().Be(HttpStatusCode.OK);
        }

        repository.WriteFile("mlp/2/model.onnx", MlpFile);
        await Task.Delay(TimeSpan.FromSeconds(3.5));   // three polls, and the one that would load version 2

        using var infer = await InferMlpAsync(client, "/v2/models/mlp/infer");
        infer.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        (await ErrorAsync(infer)).Should().Contain("unloaded");
        var index = await IndexAsync(client);
        index.Select(entry => (entry.GetProperty("version").GetString(), entry.GetProperty("state").GetString(), entry.GetProperty("reason").GetString()))
            .Should().Equal(("1", "UNAVAILABLE", "unloaded"));
    }

    private static async Task<string?> ServedVersionAsync(HttpClient client)
    {
        using var response = await InferMlpAsync(client, "/v2/models/mlp/infer");
        if (response.StatusCode != HttpStatusCode.OK)
        {
            return null;
        }

        return (await InferReply.ReadAsync(response)).Json.GetProperty("model_version").GetString();
    }

    private static async Task WriteInTwoHalvesAsync(string repository, int version, TimeSpan delay)
    {
        await Task.Delay(delay);
        var directory = Path.Combine(repository, "mlp", version.ToString(CultureInfo.InvariantCulture));
        Directory.CreateDirectory(directory);
        await using var file = new FileStream(Path.Combine(directory, "model.onnx"), FileMode.CreateNew, FileAccess.Write);
        await file.WriteAsync(MlpFile.AsMemory(0, MlpFile.Length / 2));
        await file.FlushAsync();
        await Task.Delay(TimeSpan.FromMilliseconds(300));
        await file.WriteAsync(MlpFile.AsMemory(MlpFile.Length / 2));
    }

    /// <summary>Records every version state the index shows, as "version:STATE", until stopped.</summary>
    private static async Task SampleIndexAsync(HttpClient client, ConcurrentBag<string> seen, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            foreach (var entry in await IndexAsync(client))
            {
                seen.Add($"{entry.GetProperty("version").GetString()}:{entry.GetProperty("state").GetString()}");
            }

            await Task.Delay(20, CancellationToken.None);
        }
    }
}
