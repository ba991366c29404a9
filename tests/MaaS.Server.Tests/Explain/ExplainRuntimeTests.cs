using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using MaaS.Server.Tests.Infrastructure;
using static MaaS.Server.Tests.Infrastructure.ManagementRequests;

namespace MaaS.Server.Tests.Explain;

/// <summary>Explanations run where inference runs: through a model's dynamic batcher, and across a version being replaced.</summary>
public sealed class ExplainRuntimeTests
{
    [Fact]
    public async Task Shapley_ModelWithDynamicBatchingOfFourRows_RunsThroughTheBatcherAndStaysExact()
    {
        using var repository = new TempRepository().CopyModel(RepositoryPaths.Zoo, "linear");
        repository.WriteFile(Path.Combine("linear", "config.json"), """
            {"name": "linear", "max_batch_size": 4, "dynamic_batching": {"max_queue_delay_microseconds": 100}}
            """);
        using var server = await IsolatedServer.StartAsync(repository);
        var reference = ReferenceCase.Zoo("linear");
        var expected = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(RepositoryPaths.Zoo, "linear", "reference.json")))
            .RootElement.GetProperty("explain").GetProperty("zeros").GetProperty("data").EnumerateArray().Select(value => value.GetDouble()).ToArray();

        // 2 rows x 256 coalitions, run 4 rows at a time (max_batch_size) through the batch queue.
        var explained = await ExplainRequests.PostAsync(server.Client, "linear", ExplainRequests.Body(reference, new JsonObject { ["method"] = "shapley" }));

        explained.Evaluations.Should().Be(2 * 256);
        explained.Attributions("x").Should().Equal(expected, (actual, wanted) => Math.Abs(actual - wanted) <= 1e-5);
    }

    [Fact]
    public async Task Explain_WhileVersionsAreUploadedAndDeleted_EveryExplanationSucceeds()
    {
        using var server = await IsolatedServer.StartAsync("mlp");
        var body = ExplainRequests.Body(ReferenceCase.Bundled("mlp", 1), new JsonObject { ["method"] = "shapley" }).ToJsonString();
        var failures = new ConcurrentQueue<string>();
        var versions = new ConcurrentDictionary<string, int>();
        using var stop = new CancellationTokenSource();
        var clients = Enumerable.Range(0, 3).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                using var response = await server.Client.PostAsync(ExplainRequests.ExplainUri("mlp"), V2Requests.Json(body), CancellationToken.None);
                var text = await response.Content.ReadAsStringAsync(CancellationToken.None);
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    failures.Enqueue($"{response.StatusCode}: {text}");
                    continue;
                }

                versions.AddOrUpdate(JsonDocument.Parse(text).RootElement.GetProperty("model_version").GetString()!, 1, (_, count) => count + 1);
            }
        })).ToArray();
        try
        {
            // Version 1 must have answered before version 2 replaces it, or the load could miss it altogether.
            (await EventuallyAsync(() => Task.FromResult(versions.ContainsKey("1")), TimeSpan.FromSeconds(20))).Should().BeTrue();
            await UploadMlpAsync(server.Client, "mlp");                                                   // v2 becomes latest
            (await EventuallyAsync(() => Task.FromResult(versions.ContainsKey("2")), TimeSpan.FromSeconds(20))).Should().BeTrue();
            using (var delete = await server.Client.DeleteAsync(Relative("/v2/repository/models/mlp/versions/1")))
            {
                delete.StatusCode.Should().Be(HttpStatusCode.NoContent, await delete.Content.ReadAsStringAsync());
            }

            await UploadMlpAsync(server.Client, "mlp");                                                   // v3
            (await EventuallyAsync(() => Task.FromResult(versions.ContainsKey("3")), TimeSpan.FromSeconds(20))).Should().BeTrue();
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(clients);
        }

        failures.Should().BeEmpty("an explanation holds its version's lease, as inference does");
        versions.Keys.Should().Contain(["1", "2", "3"]);
    }
}
