using System.Globalization;
using System.Net;
using MaaS.Core.Registry;
using MaaS.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using static MaaS.Server.Tests.Infrastructure.ManagementRequests;

namespace MaaS.Server.Tests;

/// <summary>
/// MaaS:RepositoryPollSeconds=1, the poller on a fake clock that each test ticks one poll at a time: what others change
/// on disk (plain file copies, deletions) is served two polls later, a file still being written is never loaded
/// half-written, and a model unloaded on request stays unloaded.
/// </summary>
public sealed class PollingTests
{
    private static readonly Dictionary<string, string?> PollEverySecond = new() { ["MaaS:RepositoryPollSeconds"] = "1" };

    /// <summary>A guard against a hang, not a synchronisation: a poll pass finishes in well under a second.</summary>
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(30);

    private static readonly int[] Versions = [2, 3, 4, 5, 6];

    [Fact]
    public async Task Poll_VersionCopiedIn_ServedOnceItHeldStillForTwoPolls()
    {
        using var repository = new TempRepository().CopyModel(RepositoryPaths.Models, "mlp");
        await using var server = await PolledServer.StartAsync(repository.Path);

        Directory.CreateDirectory(Path.Combine(repository.Path, "mlp", "2"));
        File.Copy(Path.Combine(repository.Path, "mlp", "1", "model.onnx"), Path.Combine(repository.Path, "mlp", "2", "model.onnx"));
        await server.PollAsync();

        (await ServedVersionAsync(server.Client)).Should().Be("1", "one poll has seen the new file, not yet seen it hold still");
        await server.PollAsync();
        await ShouldServeMlpAsync(server.Client, "/v2/models/mlp/infer", "2");
        await ShouldServeMlpAsync(server.Client, "/v2/models/mlp/versions/2/infer", "2");
    }

    [Fact]
    public async Task Poll_ModelDirectoryCopiedIn_IsServed()
    {
        using var repository = new TempRepository().CopyModel(RepositoryPaths.Models, "mlp");
        await using var server = await PolledServer.StartAsync(repository.Path);

        repository.CopyModel(RepositoryPaths.Models, "cnn");
        await server.PollAsync();
        await server.PollAsync();

        IndexEntry(await IndexAsync(server.Client), "cnn", "1")?.GetProperty("state").GetString().Should().Be("READY");
        using var ready = await server.Client.GetAsync(Relative("/v2/models/cnn/ready"));
        ready.StatusCode.Should().Be(HttpStatusCode.OK);
        (await ready.Content.ReadAsByteArrayAsync()).Should().BeEmpty();
        await ShouldServeMlpAsync(server.Client, "/v2/models/mlp/infer", "1");
    }

    [Fact]
    public async Task Poll_VersionDeletedOnDisk_StopsServing()
    {
        using var repository = new TempRepository().CopyModel(RepositoryPaths.Models, "mlp").WriteFile("mlp/2/model.onnx", MlpFile);
        await using var server = await PolledServer.StartAsync(repository.Path);
        await ShouldServeMlpAsync(server.Client, "/v2/models/mlp/infer", "2");

        Directory.Delete(Path.Combine(repository.Path, "mlp", "2"), recursive: true);
        await server.PollAsync();
        await server.PollAsync();

        (await ServedVersionAsync(server.Client)).Should().Be("1", "version 1 should take over");
        using var deleted = await InferMlpAsync(server.Client, "/v2/models/mlp/versions/2/infer");
        deleted.StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await ErrorAsync(deleted)).Should().Contain("'mlp' version 2 is not found");
        IndexEntry(await IndexAsync(server.Client), "mlp", "2").Should().BeNull();
    }

    [Fact]
    public async Task Poll_ModelFilesWrittenInTwoHalvesBetweenPolls_NeverLoadedHalfWritten()
    {
        using var repository = new TempRepository().CopyModel(RepositoryPaths.Models, "mlp")
            .WriteFile("mlp/config.json", MlpConfig(extra: "\"version_policy\": {\"all\": {}}"));
        await using var server = await PolledServer.StartAsync(repository.Path);

        // Five files written one after another, a poll after each half: every poll sees some file half-written.
        foreach (var version in Versions)
        {
            var directory = Path.Combine(repository.Path, "mlp", version.ToString(CultureInfo.InvariantCulture));
            Directory.CreateDirectory(directory);
            await using (var file = new FileStream(Path.Combine(directory, "model.onnx"), FileMode.CreateNew, FileAccess.Write))
            {
                await file.WriteAsync(MlpFile.AsMemory(0, MlpFile.Length / 2));
                await file.FlushAsync();
                await server.PollAsync();
                (await StatesAsync(server.Client)).Should().Equal(["1:READY"], "no version may be loaded from half a file");
                await file.WriteAsync(MlpFile.AsMemory(MlpFile.Length / 2));
            }

            await server.PollAsync();
            (await StatesAsync(server.Client)).Should().Equal(["1:READY"], "the files have not held still for two polls yet");
        }

        await server.PollAsync();

        (await StatesAsync(server.Client)).Should().Equal(["1:READY", "2:READY", "3:READY", "4:READY", "5:READY", "6:READY"]);
        foreach (var version in Versions.Select(version => version.ToString(CultureInfo.InvariantCulture)))
        {
            await ShouldServeMlpAsync(server.Client, $"/v2/models/mlp/versions/{version}/infer", version);
        }
    }

    [Fact]
    public async Task Poll_AfterUnload_LeavesTheModelUnloaded()
    {
        using var repository = new TempRepository().CopyModel(RepositoryPaths.Models, "mlp");
        await using var server = await PolledServer.StartAsync(repository.Path);
        using (var unload = await server.Client.PostAsync(Relative("/v2/repository/models/mlp/unload"), null))
        {
            unload.StatusCode.Should().Be(HttpStatusCode.OK);
        }

        repository.WriteFile("mlp/2/model.onnx", MlpFile);
        for (var i = 0; i < 3; i++)
        {
            await server.PollAsync();   // three polls: the file seen, seen again holding still, and one more
        }

        using var infer = await InferMlpAsync(server.Client, "/v2/models/mlp/infer");
        infer.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        (await ErrorAsync(infer)).Should().Contain("unloaded");
        var index = await IndexAsync(server.Client);
        index.Select(entry => (entry.GetProperty("version").GetString(), entry.GetProperty("state").GetString(), entry.GetProperty("reason").GetString()))
            .Should().Equal(("1", "UNAVAILABLE", "unloaded"));
    }

    private static async Task<string?> ServedVersionAsync(HttpClient client)
    {
        using var response = await InferMlpAsync(client, "/v2/models/mlp/infer");
        response.StatusCode.Should().Be(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return (await InferReply.ReadAsync(response)).Json.GetProperty("model_version").GetString();
    }

    /// <summary>The index as "version:STATE" entries.</summary>
    private static async Task<List<string>> StatesAsync(HttpClient client) =>
        (await IndexAsync(client)).Select(entry => $"{entry.GetProperty("version").GetString()}:{entry.GetProperty("state").GetString()}").ToList();

    /// <summary>The server on a repository, its poller's clock a <see cref="FakeTimeProvider"/> that only <see cref="PollAsync"/> moves.</summary>
    private sealed class PolledServer : IAsyncDisposable
    {
        private readonly FakeTimeProvider _clock = new();
        private readonly ConfiguredApplication _app;

        private PolledServer(string repository) =>
            // Only the poller gets the fake clock: the rest of the server (batch queue delays, load timeouts) keeps real time.
            _app = new ConfiguredApplication(
                repository,
                services => services.AddSingleton(provider => ActivatorUtilities.CreateInstance<RepositoryPoller>(provider, (TimeProvider)_clock)),
                PollEverySecond);

        public HttpClient Client { get; private set; } = null!;

        public static async Task<PolledServer> StartAsync(string repository)
        {
            var server = new PolledServer(repository);
            server.Client = await server._app.CreateReadyClientAsync();
            return server;
        }

        /// <summary>One poll: the clock moves one period, and this returns once the poller has finished the pass.</summary>
        public async Task PollAsync()
        {
            var poller = _app.Services.GetRequiredService<RepositoryPoller>();
            await poller.Started.WaitAsync(Guard);
            var handled = poller.NextTickHandled;
            _clock.Advance(TimeSpan.FromSeconds(1));
            await handled.WaitAsync(Guard);
        }

        public async ValueTask DisposeAsync()
        {
            Client?.Dispose();
            await _app.DisposeAsync();
        }
    }
}
