using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using MaaS.Server.Tests.Infrastructure;

namespace MaaS.Server.Tests;

/// <summary>
/// Dynamic batching over HTTP: concurrent requests with distinct inputs are batched together and each answer still
/// matches PyTorch's reference for its own rows; the queue's limits answer 503 with an error; statistics count a
/// batch as one execution.
/// </summary>
public sealed partial class DynamicBatchingTests
{
    private const double Tolerance = 1e-4;

    public static TheoryData<string> Models => new() { "mlp", "cnn", "transformer" };

    // Zoo models with a batch dimension: several inputs and outputs, every datatype family, BYTES.
    public static TheoryData<string> ZooModels => new() { "multi_io", "int_types", "fp16", "seq_mask", "strings" };

    [Theory]
    [MemberData(nameof(Models))]
    public async Task ConcurrentRequestsWithDistinctInputs_AreBatched_AndEachMatchesItsOwnReference(string model)
    {
        var reference = ReferenceCase.Bundled(model, 1);
        var rows = (int)reference.Inputs[0].Shape[0];

        // Each row alone (JSON and binary) and the whole reference: 4 x rows rows in all, the preferred size, so the
        // requests leave as soon as they are all queued (the delay only bounds a slow test machine).
        var cases = new List<ReferenceCase>();
        for (var row = 0; row < rows; row++)
        {
            cases.Add(Rows(reference, row, 1));
            cases.Add(Rows(reference, row, 1));
        }

        cases.Add(reference);
        cases.Add(reference);
        using var server = await BatchingServer.StartAsync(model, $$"""{"preferred_batch_size": [{{4 * rows}}], "max_queue_delay_microseconds": 2000000}""");

        var replies = await Task.WhenAll(cases.Select(async (expected, i) =>
        {
            using var response = i % 2 == 0
                ? await server.Client.PostAsync(V2Requests.InferUri("m"), V2Requests.Json(V2Requests.JsonBody(expected)))
                : await server.Client.SendAsync(V2Requests.Binary(V2Requests.InferUri("m"), expected));
            response.StatusCode.Should().Be(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
            return (Expected: expected, Reply: await InferReply.ReadAsync(response));
        }));

        foreach (var (expected, reply) in replies)
        {
            foreach (var output in expected.Outputs)
            {
                reply.ShouldMatch(output, Tolerance);
            }
        }

        var stats = await StatsAsync(server.Client);
        stats.GetProperty("inference_count").GetInt64().Should().Be(4 * rows);
        stats.GetProperty("inference_stats").GetProperty("success").GetProperty("count").GetInt64().Should().Be(cases.Count);
        stats.GetProperty("execution_count").GetInt64().Should().BeLessThan(cases.Count, "requests ran together");
        stats.GetProperty("batch_stats").EnumerateArray().Select(batch => batch.GetProperty("batch_size").GetInt64())
            .Should().Contain(size => size > 1, "the statistics show batches larger than one");
        var executions = stats.GetProperty("batch_stats").EnumerateArray().Sum(batch => batch.GetProperty("compute_infer").GetProperty("count").GetInt64());
        executions.Should().Be(stats.GetProperty("execution_count").GetInt64(), "batch_stats counts each execution once");
    }

    [Theory]
    [MemberData(nameof(ZooModels))]
    public async Task ZooModels_BatchedAsBinary_EachRequestMatchesItsOwnRows(string model)
    {
        var reference = ReferenceCase.Zoo(model);
        var rows = (int)reference.Inputs[0].Shape[0];
        var cases = Enumerable.Range(0, rows).Select(row => Rows(reference, row, 1)).Append(reference).ToList();
        using var server = await BatchingServer.StartAsync(
            model, $$"""{"preferred_batch_size": [{{2 * rows}}], "max_queue_delay_microseconds": 2000000}""", source: RepositoryPaths.Zoo);

        var replies = await Task.WhenAll(cases.Select(async expected =>
        {
            using var response = await server.Client.SendAsync(V2Requests.Binary(V2Requests.InferUri("m"), expected));
            response.StatusCode.Should().Be(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
            return (Expected: expected, Reply: await InferReply.ReadAsync(response));
        }));

        foreach (var (expected, reply) in replies)
        {
            foreach (var output in expected.Outputs)
            {
                reply.ShouldMatch(output, TensorValues.Tolerance(output.Datatype));
            }
        }

        (await StatsAsync(server.Client)).GetProperty("execution_count").GetInt64().Should().BeLessThan(cases.Count);
    }

    [Fact]
    public async Task ModelWithoutBatchDimension_QueuesButRunsEachRequestAlone()
    {
        var reference = ReferenceCase.Zoo("no_batch");
        using var server = await BatchingServer.StartAsync("no_batch", """{"max_queue_delay_microseconds": 1000}""", source: RepositoryPaths.Zoo);

        var responses = await Task.WhenAll(Enumerable.Range(0, 4).Select(async _ =>
        {
            using var response = await server.Client.PostAsync(V2Requests.InferUri("m"), V2Requests.Json(V2Requests.JsonBody(reference)));
            response.StatusCode.Should().Be(HttpStatusCode.OK);
            return await InferReply.ReadAsync(response);
        }));

        foreach (var reply in responses)
        {
            reply.ShouldMatch(reference.Outputs[0], Tolerance);
        }

        var stats = await StatsAsync(server.Client);
        stats.GetProperty("execution_count").GetInt64().Should().Be(4);
        stats.GetProperty("batch_stats").EnumerateArray().Should().ContainSingle().Which.GetProperty("batch_size").GetInt64().Should().Be(1);
    }

    [Fact]
    public async Task FullQueue_Answers503AtOnce_AndQueuedRequestsTimeOutWith503()
    {
        using var server = await BatchingServer.StartAsync(
            "mlp",
            """{"max_queue_delay_microseconds": 60000000, "default_queue_policy": {"max_queue_size": 2, "default_timeout_microseconds": 3000000, "timeout_action": "REJECT"}}""");
        var body = V2Requests.JsonBody(Rows(ReferenceCase.Bundled("mlp", 1), 0, 1));
        var first = server.Client.PostAsync(V2Requests.InferUri("m"), V2Requests.Json(body));
        var second = server.Client.PostAsync(V2Requests.InferUri("m"), V2Requests.Json(body));
        await WaitForPendingAsync(server.Client, 2);

        using var refused = await server.Client.PostAsync(V2Requests.InferUri("m"), V2Requests.Json(body));

        refused.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        (await ErrorAsync(refused)).Should().Contain("Exceeds maximum queue size");
        first.IsCompleted.Should().BeFalse("the queued requests wait for their timeout, and the refusal did not");
        foreach (var queued in new[] { first, second })
        {
            using var response = await queued;
            response.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
            (await ErrorAsync(response)).Should().Contain("Request timeout expired");
        }

        var stats = await StatsAsync(server.Client);
        stats.GetProperty("inference_stats").GetProperty("fail").GetProperty("count").GetInt64().Should().Be(3);
    }

    [Fact]
    public async Task RequestTimeoutParameter_ShortensTheQueuePolicy_AndDelayedRequestsStillRun()
    {
        using var server = await BatchingServer.StartAsync(
            "mlp",
            """{"max_queue_delay_microseconds": 1500000, "default_queue_policy": {"default_timeout_microseconds": 1000000, "timeout_action": "DELAY", "allow_timeout_override": true}}""");
        var reference = Rows(ReferenceCase.Bundled("mlp", 1), 1, 1);
        var body = V2Requests.JsonBody(reference);
        var delayed = server.Client.PostAsync(V2Requests.InferUri("m"), V2Requests.Json(body));
        body["parameters"] = new JsonObject { ["timeout"] = 200_000 };

        // DELAY keeps a timed-out request; it runs when the batch's delay passes, with the right answer.
        using (var response = await server.Client.PostAsync(V2Requests.InferUri("m"), V2Requests.Json(body)))
        {
            response.StatusCode.Should().Be(HttpStatusCode.OK);
            (await InferReply.ReadAsync(response)).ShouldMatch(reference.Outputs[0], Tolerance);
        }

        using var first = await delayed;
        first.StatusCode.Should().Be(HttpStatusCode.OK);
        (await InferReply.ReadAsync(first)).ShouldMatch(reference.Outputs[0], Tolerance);
    }

    [Theory]
    [InlineData("""{"priority": "high"}""", "parameter 'priority'")]
    [InlineData("""{"priority": -1}""", "parameter 'priority'")]
    [InlineData("""{"timeout": 1.5}""", "parameter 'timeout'")]
    public async Task SchedulingParametersOfTheWrongType_Answer400(string parameters, string expected)
    {
        using var server = await BatchingServer.StartAsync("mlp", """{"max_queue_delay_microseconds": 0}""");
        var body = V2Requests.JsonBody(Rows(ReferenceCase.Bundled("mlp", 1), 0, 1));
        body["parameters"] = JsonNode.Parse(parameters);

        using var response = await server.Client.PostAsync(V2Requests.InferUri("m"), V2Requests.Json(body));

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await ErrorAsync(response)).Should().Contain(expected);
    }

    [Fact]
    public async Task ClientThatDisconnects_LeavesTheQueue()
    {
        using var server = await BatchingServer.StartAsync("mlp", """{"max_queue_delay_microseconds": 60000000}""");
        var body = V2Requests.JsonBody(Rows(ReferenceCase.Bundled("mlp", 1), 0, 1));
        using var disconnect = new CancellationTokenSource();
        var abandoned = server.Client.PostAsync(V2Requests.InferUri("m"), V2Requests.Json(body), disconnect.Token);
        await WaitForPendingAsync(server.Client, 1);

        await disconnect.CancelAsync();

        await abandoned.Invoking(request => request).Should().ThrowAsync<OperationCanceledException>();
        await WaitForPendingAsync(server.Client, 0);
    }

    [Fact]
    public async Task Config_ShowsTheDynamicBatchingInEffect_AndABadOneNamesTheKey()
    {
        using var server = await BatchingServer.StartAsync("mlp", """{"preferred_batch_size": [4, 8], "max_queue_delay_microseconds": 100}""");

        using var config = await server.Client.GetAsync(new Uri("/v2/models/m/config", UriKind.Relative));
        var json = JsonDocument.Parse(await config.Content.ReadAsStringAsync()).RootElement;
        json.GetProperty("dynamic_batching").GetProperty("preferred_batch_size").EnumerateArray().Select(size => size.GetInt32()).Should().Equal(4, 8);
        json.GetProperty("dynamic_batching").GetProperty("default_queue_policy").GetProperty("max_queue_size").GetInt32()
            .Should().Be(1024, "a queue the config does not bound gets the documented default bound");

        using var bad = await BatchingServer.StartAsync("mlp", """{"max_queue_delay_microseconds": 100, "max_batch": 4}""", waitReady: false);
        using var index = await bad.Client.PostAsync(new Uri("/v2/repository/index", UriKind.Relative), null);
        (await index.Content.ReadAsStringAsync()).Should().Contain("dynamic_batching.max_batch");
    }

    private static ReferenceCase Rows(ReferenceCase reference, int first, int count) => reference with
    {
        Inputs = [.. reference.Inputs.Select(tensor => SliceRows(tensor, first, count))],
        Outputs = [.. reference.Outputs.Select(tensor => SliceRows(tensor, first, count))],
    };

    private static ReferenceTensor SliceRows(ReferenceTensor tensor, int first, int count)
    {
        var perRow = (int)(tensor.Shape.Skip(1).Aggregate(1L, (a, b) => a * b));
        var data = tensor.Data.EnumerateArray().Skip(first * perRow).Take(count * perRow).Select(value => value.Clone()).ToArray();
        return tensor with { Shape = [count, .. tensor.Shape.Skip(1)], Data = JsonSerializer.SerializeToElement(data) };
    }

    private static async Task<JsonElement> StatsAsync(HttpClient client)
    {
        using var response = await client.GetAsync(new Uri("/v2/models/m/versions/1/stats", UriKind.Relative));
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("model_stats")[0];
    }

    private static async Task<string> ErrorAsync(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetString()!;

    /// <summary>Polls /metrics until the model's pending request count is <paramref name="count"/> (the queue is observable, not timed).</summary>
    private static async Task WaitForPendingAsync(HttpClient client, int count)
    {
        for (var attempt = 0; attempt < 500; attempt++)
        {
            var text = await client.GetStringAsync(new Uri("/metrics", UriKind.Relative));
            var match = PendingPattern().Match(text);
            if (match.Success && int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) == count)
            {
                return;
            }

            await Task.Delay(20);
        }

        throw new TimeoutException($"the queue never held {count} requests");
    }

    [GeneratedRegex("""^nv_inference_pending_request_count\{model="m",version="1"\} (\d+)""", RegexOptions.Multiline)]
    private static partial Regex PendingPattern();

    /// <summary>A server of its own on one model copied as "m", with <c>dynamic_batching</c> added to its config.</summary>
    private static class BatchingServer
    {
        public static async Task<IsolatedServer> StartAsync(string model, string dynamicBatching, bool waitReady = true, string? source = null)
        {
            var repository = new TempRepository().CopyModel(source ?? RepositoryPaths.Models, model, "m");
            var configPath = Path.Combine(repository.Path, "m", "config.json");
            var config = File.Exists(configPath) ? JsonNode.Parse(await File.ReadAllTextAsync(configPath))!.AsObject() : [];
            config["name"] = "m";
            config["dynamic_batching"] = JsonNode.Parse(dynamicBatching);
            repository.WriteFile(Path.Combine("m", "config.json"), config.ToJsonString());
            return await IsolatedServer.StartAsync(repository, waitReady);
        }
    }
}
