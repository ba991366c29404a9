using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using MaaS.Server.Tests.Infrastructure;
using static MaaS.Server.Tests.Infrastructure.ManagementRequests;

namespace MaaS.Server.Tests;

/// <summary>
/// Requests never see a half-swapped model: clients infer without pause, by latest and by label, while the registry
/// gains versions, moves the label, loses versions and has its config replaced. Every version is the same mlp file,
/// so every answer must equal the PyTorch reference. The test moves on when the clients' answers say so (events on the
/// answer counts), never after a sleep; <see cref="Bound"/> only guards against a hang.
/// </summary>
public sealed class HotSwapTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Infer_WhileVersionsLabelsAndConfigChange_EveryRequestSucceeds()
    {
        using var repository = new TempRepository().CopyModel(RepositoryPaths.Models, "mlp");
        using var app = new RepositoryApplication(repository.Path);
        using var client = await app.CreateReadyClientAsync();
        await ChangeAsync(() => SetLabelAsync(client, "mlp", "stable", 1));
        using var stop = new CancellationTokenSource();
        var failures = new ConcurrentQueue<string>();
        var answered = new AnswerCounts();
        string[] paths = ["/v2/models/mlp/infer", "/v2/models/mlp/infer", "/v2/models/mlp/labels/stable/infer", "/v2/models/mlp/labels/stable/infer"];
        var clients = paths.Select(path => Task.Run(() => InferUntilStoppedAsync(client, path, failures, answered, stop.Token))).ToArray();
        try
        {
            await answered.WhenAsync(counts => counts.Values.Sum() >= 40).WaitAsync(Bound);
            await ChangeEverythingAsync(client).WaitAsync(Bound);                // the changes take seconds
            await answered.WhenAsync(counts => counts.GetValueOrDefault("5") >= 50 && counts.Values.Sum() >= 400).WaitAsync(Bound);
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(clients);
        }

        failures.Should().BeEmpty();
        var final = answered.Snapshot();
        final.Values.Sum().Should().BeGreaterThan(100, "the clients should have been inferring throughout");
        final.Keys.Should().Contain(["1", "5"], "the clients should have been answered by the first and the last version");
        await ShouldServeMlpAsync(client, "/v2/models/mlp/labels/stable/infer", "5");
        Directory.GetDirectories(Path.Combine(repository.Path, "mlp")).Select(Path.GetFileName).Should().Equal("5");
    }

    /// <summary>Versions come and go, the label moves, the config is replaced: each change answered before the next.</summary>
    private static async Task ChangeEverythingAsync(HttpClient client)
    {
        await UploadMlpAsync(client, "mlp");                                 // v2 becomes latest
        await ChangeAsync(() => SetLabelAsync(client, "mlp", "stable", 2));
        await ChangeAsync(() => client.DeleteAsync(Relative("/v2/repository/models/mlp/versions/1")));
        await UploadMlpAsync(client, "mlp");                                 // v3
        await ChangeAsync(() => SetLabelAsync(client, "mlp", "stable", 3));
        await ChangeAsync(() => client.DeleteAsync(Relative("/v2/repository/models/mlp/versions/2")));
        await UploadMlpAsync(client, "mlp");                                 // v4
        await ChangeAsync(() => client.PutAsync(
            Relative("/v2/repository/models/mlp/config"),
            V2Requests.Json(MlpConfig(extra: "\"version_policy\": {\"latest\": {\"num_versions\": 2}}, \"labels\": {\"stable\": 3}"))));
        await UploadMlpAsync(client, "mlp");                                 // v5
        await ChangeAsync(() => SetLabelAsync(client, "mlp", "stable", 5));
        await ChangeAsync(() => client.DeleteAsync(Relative("/v2/repository/models/mlp/versions/3")));
        await ChangeAsync(() => client.DeleteAsync(Relative("/v2/repository/models/mlp/versions/4")));
    }

    private static async Task ChangeAsync(Func<Task<HttpResponseMessage>> change)
    {
        using var response = await change();
        response.StatusCode.Should().Be(HttpStatusCode.NoContent, await response.Content.ReadAsStringAsync());
    }

    /// <summary>Infers the mlp reference input until stopped; any answer that is not 200 with the reference outputs is a failure.</summary>
    private static async Task InferUntilStoppedAsync(
        HttpClient client, string path, ConcurrentQueue<string> failures, AnswerCounts answered, CancellationToken stop)
    {
        var reference = ReferenceCase.Bundled("mlp", 1);
        var expected = TensorValues.Of(reference.Outputs[0]).Cast<double>().ToArray();
        var body = V2Requests.JsonBody(reference).ToJsonString();
        while (!stop.IsCancellationRequested)
        {
            // The request itself is not cancelled: one in flight when the test stops must finish too.
            using var response = await client.PostAsync(Relative(path), V2Requests.Json(body), CancellationToken.None);
            var text = await response.Content.ReadAsStringAsync(CancellationToken.None);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                failures.Enqueue($"{path}: {(int)response.StatusCode} {text}");
                continue;
            }

            using var json = JsonDocument.Parse(text);
            var output = json.RootElement.GetProperty("outputs")[0];
            var actual = output.GetProperty("data").EnumerateArray().Select(value => value.GetDouble()).ToArray();
            if (actual.Length != expected.Length || actual.Zip(expected).Any(pair => Math.Abs(pair.First - pair.Second) > 1e-4))
            {
                failures.Enqueue($"{path}: outputs differ from the reference: {text}");
                continue;
            }

            answered.Add(json.RootElement.GetProperty("model_version").GetString()!);
        }
    }

    /// <summary>Answers per version; <see cref="WhenAsync"/> completes as soon as an answer makes its condition true.</summary>
    private sealed class AnswerCounts
    {
        private readonly Lock _lock = new();
        private readonly Dictionary<string, int> _counts = new(StringComparer.Ordinal);
        private readonly List<(Func<IReadOnlyDictionary<string, int>, bool> Condition, TaskCompletionSource Reached)> _waiters = [];

        public void Add(string version)
        {
            lock (_lock)
            {
                _counts[version] = _counts.GetValueOrDefault(version) + 1;
                foreach (var waiter in _waiters.Where(waiter => waiter.Condition(_counts)).ToList())
                {
                    _waiters.Remove(waiter);
                    waiter.Reached.TrySetResult();
                }
            }
        }

        public Task WhenAsync(Func<IReadOnlyDictionary<string, int>, bool> condition)
        {
            lock (_lock)
            {
                if (condition(_counts))
                {
                    return Task.CompletedTask;
                }

                var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _waiters.Add((condition, reached));
                return reached.Task;
            }
        }

        public Dictionary<string, int> Snapshot()
        {
            lock (_lock)
            {
                return new Dictionary<string, int>(_counts, StringComparer.Ordinal);
            }
        }
    }
}
