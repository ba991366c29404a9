using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using MaaS.Server.Tests.Infrastructure;
using static MaaS.Server.Tests.Infrastructure.ManagementRequests;

namespace MaaS.Server.Tests;

/// <summary>
/// What an operator reads: <c>GET /metrics</c> (Prometheus text, Triton's per-model series) and Triton's statistics
/// extension. Every test has its own server on a copy of the bundled models, so the counts are exact.
/// </summary>
public sealed partial class MonitoringTests
{
    private const int Good = 5;
    private const int Bad = 3;
    private const int BatchSize = 2;
    private const string InferRoute = "/v2/models/{modelName}/infer";
    private const string Unknown = "ghostmodel7f3a";

    // Families that carry one sample per (model, version) and are counters or gauges: all at 0 until a request.
    private static readonly string[] PerVersionFamilies =
    [
        "nv_inference_request_success", "nv_inference_count", "nv_inference_exec_count", "nv_inference_request_duration_us",
        "nv_inference_queue_duration_us", "nv_inference_compute_input_duration_us", "nv_inference_compute_infer_duration_us",
        "nv_inference_compute_output_duration_us", "nv_inference_pending_request_count",
    ];

    private static readonly string[] Histograms =
        ["maas_inference_request_duration_seconds", "maas_inference_queue_duration_seconds", "maas_inference_compute_duration_seconds"];

    private static readonly string[] FailureReasons = ["REJECTED", "CANCELED", "BACKEND", "OTHER"];

    [Fact]
    public async Task Metrics_AfterGoodAndBadInferRequests_CountsEveryRequestExactly()
    {
        using var server = await IsolatedServer.StartAsync("mlp");
        await SendTrafficAsync(server.Client);

        var metrics = await ScrapeAsync(server.Client);

        var mlp = new[] { ("model", "mlp"), ("version", "1") };
        metrics.Value("nv_inference_request_success", mlp).Should().Be(Good);
        metrics.Value("nv_inference_request_failure", [.. mlp, ("reason", "OTHER")]).Should().Be(Bad, "bad inputs fail with reason OTHER");
        foreach (var reason in FailureReasons.Where(reason => reason != "OTHER"))
        {
            metrics.Value("nv_inference_request_failure", [.. mlp, ("reason", reason)]).Should().Be(0, "no request failed with {0}", reason);
        }

        metrics.Value("nv_inference_count", mlp).Should().Be(Good * BatchSize, "a batch of n is n inferences");
        metrics.Value("nv_inference_exec_count", mlp).Should().Be(Good, "a batch is one execution");
        metrics.Value("nv_inference_pending_request_count", mlp).Should().Be(0, "nothing is in flight");
        foreach (var family in new[]
                 {
                     "nv_inference_request_duration_us", "nv_inference_compute_input_duration_us",
                     "nv_inference_compute_infer_duration_us", "nv_inference_compute_output_duration_us",
                 })
        {
            metrics.Value(family, mlp).Should().BeGreaterThan(0, "{0} accumulates the requests' time", family);
        }

        metrics.Value("nv_inference_queue_duration_us", mlp).Should().BeGreaterThanOrEqualTo(0);
        metrics.Value("maas_inference_request_duration_seconds_count", mlp).Should().Be(Good, "the latency histogram observes successful requests");
        metrics.Value("maas_inference_request_duration_seconds_bucket", [.. mlp, ("le", "+Inf")]).Should().Be(Good);
        metrics.Value("maas_inference_request_duration_seconds_sum", mlp).Should().BeGreaterThan(0);
        foreach (var histogram in Histograms)
        {
            metrics.ShouldBeCumulativeHistogram(histogram, mlp, Good);
        }

        metrics.Value("http_server_requests_total", ("method", "POST"), ("route", InferRoute), ("status", "200")).Should().Be(Good);
        metrics.Value("http_server_requests_total", ("method", "POST"), ("route", InferRoute), ("status", "400")).Should().Be(Bad);
        metrics.Value("http_server_request_duration_seconds_sum", ("method", "POST"), ("route", InferRoute), ("status", "200")).Should().BeGreaterThan(0);
    }

    [Fact]
    public async Task Metrics_RightAfterLoad_EverySeriesExistsAtZero()
    {
        using var server = await IsolatedServer.StartAsync("mlp");

        var metrics = await ScrapeAsync(server.Client);

        var mlp = new[] { ("model", "mlp"), ("version", "1") };
        foreach (var family in PerVersionFamilies)
        {
            metrics.Value(family, mlp).Should().Be(0, "{0} exists at 0 from load", family);
        }

        foreach (var reason in FailureReasons)
        {
            metrics.Value("nv_inference_request_failure", [.. mlp, ("reason", reason)]).Should().Be(0, "reason {0} exists at 0 from load", reason);
        }

        foreach (var histogram in Histograms)
        {
            metrics.ShouldBeCumulativeHistogram(histogram, mlp, 0);
            metrics.Value(histogram + "_sum", mlp).Should().Be(0);
        }

        metrics.Value("nv_model_load_duration_secs", mlp).Should().BeGreaterThan(0, "the version took time to load");
        metrics.Value("maas_model_warmup_duration_seconds", mlp).Should().BeGreaterThanOrEqualTo(0);
        metrics.Value("maas_loaded_versions").Should().Be(1);
        metrics.Value("maas_loaded_bytes").Should().BeGreaterThan(0);
        metrics.Value("maas_model_loads_total").Should().Be(1);
        metrics.Value("maas_model_evictions_total").Should().Be(0);
        metrics.Samples.Where(sample => sample.Name == "maas_execution_provider").Should().ContainSingle()
            .Which.Value.Should().Be(1);
    }

    [Fact]
    public async Task Metrics_RequestsForUnknownModel_CreateNoSeriesNamingIt()
    {
        using var server = await IsolatedServer.StartAsync("mlp");
        var requests = new (Func<Task<HttpResponseMessage>> Send, HttpStatusCode Status)[]
        {
            (() => server.Client.PostAsync(V2Requests.InferUri(Unknown), V2Requests.Json(V2Requests.JsonBody(Batch(1)))), HttpStatusCode.NotFound),
            (() => server.Client.PostAsync(V2Requests.InferUri(Unknown, 1), V2Requests.Json(V2Requests.JsonBody(Batch(1)))), HttpStatusCode.NotFound),
            (() => server.Client.PostAsync(Relative($"/v2/models/{Unknown}/labels/{Unknown}/infer"), V2Requests.Json(V2Requests.JsonBody(Batch(1)))), HttpStatusCode.NotFound),
            (() => server.Client.PostAsync(V1Requests.PredictUri(Unknown), V2Requests.Json(V1Requests.Body(Batch(1)))), HttpStatusCode.NotFound),
            (() => server.Client.GetAsync(Relative($"/v2/models/{Unknown}/stats")), HttpStatusCode.BadRequest),
            (() => server.Client.GetAsync(Relative($"/v2/models/{Unknown}/versions/1/stats")), HttpStatusCode.BadRequest),
            (() => server.Client.GetAsync(Relative($"/v2/models/{Unknown}")), HttpStatusCode.NotFound),
            (() => server.Client.GetAsync(Relative($"/v2/models/{Unknown}/ready")), HttpStatusCode.NotFound),
            (() => server.Client.GetAsync(Relative($"/{Unknown}/anything")), HttpStatusCode.NotFound),
        };
        foreach (var (send, status) in requests)
        {
            using var response = await send();
            response.StatusCode.Should().Be(status, await response.Content.ReadAsStringAsync());
        }

        var metrics = await ScrapeAsync(server.Client);

        metrics.Text.Should().NotContain(Unknown, "label values come from the registry and route templates, never from the request");
        metrics.Value("http_server_requests_total", ("method", "POST"), ("route", InferRoute), ("status", "404")).Should().Be(1);
        metrics.Samples.Where(sample => sample.Labels.TryGetValue("model", out var model) && model != "mlp").Should().BeEmpty();
        (await StatsAsync(server.Client, "/v2/models/stats")).Select(entry => entry.GetProperty("name").GetString()).Should().Equal("mlp");
    }

    [Fact]
    public async Task Stats_AfterGoodAndBadInferRequests_EveryRouteAnswersExactCountsInTritonSchema()
    {
        using var server = await IsolatedServer.StartAsync("mlp");
        var before = TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds();
        await SendTrafficAsync(server.Client);
        var after = TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds();

        foreach (var path in new[] { "/v2/models/mlp/stats", "/v2/models/mlp/versions/1/stats", "/v2/models/stats" })
        {
            var entry = (await StatsAsync(server.Client, path)).Should().ContainSingle(e => e.GetProperty("name").GetString() == "mlp", path).Subject;

            ShouldHaveTritonSchema(entry, "mlp", "1");
            entry.GetProperty("last_inference").GetInt64().Should().BeInRange(before, after, "{0}: last_inference is ms since the epoch", path);
            entry.GetProperty("inference_count").GetInt64().Should().Be(Good * BatchSize, path);
            entry.GetProperty("execution_count").GetInt64().Should().Be(Good, path);
            var stats = entry.GetProperty("inference_stats");
            ShouldCountAndTakeTime(stats, "success", Good, path);
            ShouldCountAndTakeTime(stats, "fail", Bad, path);
            Duration(stats, "queue").Count.Should().Be(Good, path);
            foreach (var stage in new[] { "compute_input", "compute_infer", "compute_output" })
            {
                ShouldCountAndTakeTime(stats, stage, Good, path);
            }

            Duration(stats, "cache_hit").Should().Be((0L, 0L), path);
            Duration(stats, "cache_miss").Should().Be((0L, 0L), path);
            var batch = entry.GetProperty("batch_stats").EnumerateArray().Should().ContainSingle("{0}: one batch size was executed", path).Subject;
            batch.GetProperty("batch_size").GetInt64().Should().Be(BatchSize, path);
            foreach (var stage in new[] { "compute_input", "compute_infer", "compute_output" })
            {
                Duration(batch, stage).Count.Should().Be(Good, "{0}: batch_stats {1} counts executions at that size", path, stage);
            }

            Duration(batch, "compute_infer").Ns.Should().BeGreaterThan(0, path);
        }
    }

    [Fact]
    public async Task Stats_BeforeAnyRequest_AnswerZerosInTritonSchema()
    {
        using var server = await IsolatedServer.StartAsync("mlp");

        foreach (var path in new[] { "/v2/models/mlp/stats", "/v2/models/mlp/versions/1/stats", "/v2/models/stats" })
        {
            var entry = (await StatsAsync(server.Client, path)).Should().ContainSingle(path).Subject;

            ShouldHaveTritonSchema(entry, "mlp", "1");
            entry.GetProperty("last_inference").GetInt64().Should().Be(0, "{0}: never inferred", path);
            entry.GetProperty("inference_count").GetInt64().Should().Be(0, path);
            entry.GetProperty("execution_count").GetInt64().Should().Be(0, path);
            foreach (var stat in entry.GetProperty("inference_stats").EnumerateObject())
            {
                Duration(entry.GetProperty("inference_stats"), stat.Name).Should().Be((0L, 0L), "{0}: {1}", path, stat.Name);
            }

            entry.GetProperty("batch_stats").GetArrayLength().Should().Be(0, path);
        }
    }

    [Theory]
    [InlineData("/v2/models/" + Unknown + "/stats", "requested model '" + Unknown + "' is not available")]
    [InlineData("/v2/models/" + Unknown + "/versions/1/stats", "requested model '" + Unknown + "' is not available")]
    [InlineData("/v2/models/mlp/versions/9/stats", "requested model 'mlp' version 9 is not available")]
    public async Task Stats_UnknownModelOrVersion_Returns400NotAvailable(string path, string error)
    {
        using var server = await IsolatedServer.StartAsync("mlp");

        using var response = await server.Client.GetAsync(Relative(path));

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await ErrorAsync(response)).Should().Contain(error).And.Contain("is not available");
    }

    [Fact]
    public async Task PredictV1_GoodAndBadRequests_CountedInMetricsAndStats()
    {
        using var server = await IsolatedServer.StartAsync("mlp");
        var reference = ReferenceCase.Bundled("mlp", 1);
        var rows = (int)reference.Inputs[0].Shape[0];
        for (var i = 0; i < 2; i++)
        {
            using var ok = await server.Client.PostAsync(V1Requests.PredictUri("mlp"), V2Requests.Json(V1Requests.Body(reference)));
            ok.StatusCode.Should().Be(HttpStatusCode.OK, await ok.Content.ReadAsStringAsync());
        }

        using (var bad = await server.Client.PostAsync(V1Requests.PredictUri("mlp"), V2Requests.Json("""{"instances": [[1, 2, 3]]}""")))
        {
            bad.StatusCode.Should().Be(HttpStatusCode.BadRequest, await bad.Content.ReadAsStringAsync());
        }

        var metrics = await ScrapeAsync(server.Client);

        var mlp = new[] { ("model", "mlp"), ("version", "1") };
        metrics.Value("nv_inference_request_success", mlp).Should().Be(2);
        metrics.Value("nv_inference_request_failure", [.. mlp, ("reason", "OTHER")]).Should().Be(1);
        metrics.Value("nv_inference_count", mlp).Should().Be(2 * rows, "each instance is one inference");
        metrics.Value("nv_inference_exec_count", mlp).Should().Be(2);
        metrics.Value("maas_inference_request_duration_seconds_count", mlp).Should().Be(2);
        metrics.Value("http_server_requests_total", ("method", "POST"), ("route", "/v1/models/{modelName}:predict"), ("status", "200")).Should().Be(2);
        metrics.Value("http_server_requests_total", ("method", "POST"), ("route", "/v1/models/{modelName}:predict"), ("status", "400")).Should().Be(1);
        var entry = (await StatsAsync(server.Client, "/v2/models/mlp/stats")).Should().ContainSingle().Subject;
        entry.GetProperty("inference_count").GetInt64().Should().Be(2 * rows);
        Duration(entry.GetProperty("inference_stats"), "success").Count.Should().Be(2);
        Duration(entry.GetProperty("inference_stats"), "fail").Count.Should().Be(1);
        entry.GetProperty("batch_stats").EnumerateArray().Should().ContainSingle()
            .Which.GetProperty("batch_size").GetInt64().Should().Be(rows);
    }

    [Fact]
    public async Task Metrics_TwoVersions_CountEachVersionApart()
    {
        using var server = await IsolatedServer.StartAsync("rnn");
        foreach (var (version, times) in new[] { (1, 3), (2, 1) })
        {
            for (var i = 0; i < times; i++)
            {
                using var response = await server.Client.PostAsync(
                    V2Requests.InferUri("rnn", version), V2Requests.Json(V2Requests.JsonBody(ReferenceCase.Bundled("rnn", version))));
                response.StatusCode.Should().Be(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
            }
        }

        var metrics = await ScrapeAsync(server.Client);
        var stats = await StatsAsync(server.Client, "/v2/models/rnn/stats");

        metrics.Value("nv_inference_request_success", ("model", "rnn"), ("version", "1")).Should().Be(3);
        metrics.Value("nv_inference_request_success", ("model", "rnn"), ("version", "2")).Should().Be(1);
        metrics.Value("http_server_requests_total", ("method", "POST"), ("route", "/v2/models/{modelName}/versions/{modelVersion:regex(^[0-9]+$)}/infer"), ("status", "200"))
            .Should().Be(4, "the versioned route is counted under its template");
        stats.Select(entry => entry.GetProperty("version").GetString()).Should().Equal("1", "2");
        stats.Select(entry => Duration(entry.GetProperty("inference_stats"), "success").Count).Should().Equal(3, 1);
        var one = (await StatsAsync(server.Client, "/v2/models/rnn/versions/2/stats")).Should().ContainSingle().Subject;
        one.GetProperty("version").GetString().Should().Be("2");
        one.GetProperty("execution_count").GetInt64().Should().Be(1);
    }

    [Fact]
    public async Task Metrics_ContentTypeAndEveryLine_ParseAsPrometheusText()
    {
        using var server = await IsolatedServer.StartAsync("mlp", "rnn");
        await SendTrafficAsync(server.Client);

        using var response = await server.Client.GetAsync(Relative("/metrics"));

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.Should().Be("text/plain");
        var metrics = Exposition.Parse(await response.Content.ReadAsStringAsync());
        metrics.Samples.Should().NotBeEmpty();
        metrics.Samples.Select(sample => sample.Series).Should().OnlyHaveUniqueItems("a series appears once per scrape");
        metrics.Types.Keys.Should().Contain(["nv_inference_request_success", "http_server_requests_total", "process_cpu_seconds_total", "dotnet_gc_collections_total"]);
        metrics.Samples.Select(sample => sample.Labels.GetValueOrDefault("model")).Where(model => model is not null).Distinct()
            .Should().BeEquivalentTo(["mlp", "rnn"]);
    }

    [Fact]
    public async Task Metrics_ScrapedWhileVersionsAreUploaded_EveryScrapeSucceeds()
    {
        using var server = await IsolatedServer.StartAsync("mlp");
        using var stop = new CancellationTokenSource();
        var failures = new ConcurrentQueue<string>();
        var scrapes = 0;
        var scrapers = Enumerable.Range(0, 3).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    using var response = await server.Client.GetAsync(Relative("/metrics"), CancellationToken.None);
                    var text = await response.Content.ReadAsStringAsync(CancellationToken.None);
                    if (response.StatusCode != HttpStatusCode.OK)
                    {
                        failures.Enqueue($"{(int)response.StatusCode}: {text}");
                        continue;
                    }

                    Exposition.Parse(text);
                    Interlocked.Increment(ref scrapes);
                }
#pragma warning disable CA1031 // any failure of a scrape is what this test reports
                catch (Exception ex)
#pragma warning restore CA1031
                {
                    failures.Enqueue(ex.ToString());
                }
            }
        })).ToArray();
        try
        {
            for (var i = 0; i < 4; i++)
            {
                await UploadMlpAsync(server.Client, "mlp");
                using var inferred = await InferMlpAsync(server.Client, "/v2/models/mlp/infer");
                inferred.StatusCode.Should().Be(HttpStatusCode.OK);
            }
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(scrapers);
        }

        failures.Should().BeEmpty();
        scrapes.Should().BeGreaterThan(4, "the scrapers should have run throughout the uploads");
        (await EventuallyAsync(
            async () => (await ScrapeAsync(server.Client)).Samples.Any(sample => sample.Name == "nv_inference_request_success" && sample.Labels["version"] == "5"),
            TimeSpan.FromSeconds(5))).Should().BeTrue("the last uploaded version gets its series");
    }

    // Triton adds only successful requests to nv_inference_request_duration_us (a failure adds to the statistics'
    // "fail" only), so request_duration_us / request_success is the mean latency, as Triton dashboards compute it.
    [Fact]
    public async Task Metrics_FailedRequests_AddNoTimeToRequestDuration()
    {
        using var server = await IsolatedServer.StartAsync("mlp");
        await SendTrafficAsync(server.Client);

        var metrics = await ScrapeAsync(server.Client);
        var entry = (await StatsAsync(server.Client, "/v2/models/mlp/versions/1/stats")).Should().ContainSingle().Subject;

        var success = Duration(entry.GetProperty("inference_stats"), "success");
        metrics.Value("nv_inference_request_duration_us", ("model", "mlp"), ("version", "1"))
            .Should().Be(success.Ns / 1000, "the counter holds the successful requests' time (stats success.ns) in µs, not the failures'");
    }

    // A model deleted and created again under the same name is a new model: its series start at 0 from load and its
    // statistics say it never inferred, as in Triton, not the counts of the model it replaced.
    [Fact]
    public async Task Stats_ModelDeletedAndUploadedAgain_StartFromZero()
    {
        using var server = await IsolatedServer.StartAsync("mlp");
        await SendTrafficAsync(server.Client);
        using (var deleted = await server.Client.DeleteAsync(Relative("/v2/repository/models/mlp")))
        {
            deleted.StatusCode.Should().Be(HttpStatusCode.NoContent, await deleted.Content.ReadAsStringAsync());
        }

        await UploadMlpAsync(server.Client, "mlp", MlpConfig());

        var entry = (await StatsAsync(server.Client, "/v2/models/mlp/stats")).Should().ContainSingle().Subject;
        entry.GetProperty("version").GetString().Should().Be("1", "the new model starts again at version 1");
        entry.GetProperty("last_inference").GetInt64().Should().Be(0, "the new model never inferred");
        entry.GetProperty("inference_count").GetInt64().Should().Be(0);
        Duration(entry.GetProperty("inference_stats"), "success").Should().Be((0L, 0L));
        Duration(entry.GetProperty("inference_stats"), "fail").Should().Be((0L, 0L));
        var metrics = await ScrapeAsync(server.Client);
        metrics.Value("nv_inference_request_success", ("model", "mlp"), ("version", "1")).Should().Be(0, "the new model's series start at 0");
        metrics.Value("maas_inference_request_duration_seconds_count", ("model", "mlp"), ("version", "1")).Should().Be(0);
    }

    /// <summary>n good requests (batch 2) and m bad ones (wrong shape, wrong datatype, malformed JSON) to mlp.</summary>
    private static async Task SendTrafficAsync(HttpClient client)
    {
        for (var i = 0; i < Good; i++)
        {
            using var response = await client.PostAsync(V2Requests.InferUri("mlp"), V2Requests.Json(V2Requests.JsonBody(Batch(BatchSize))));
            response.StatusCode.Should().Be(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        }

        string[] bad =
        [
            """{"inputs":[{"name":"input","datatype":"FP32","shape":[2,5],"data":[1,2,3,4,5,6,7,8,9,10]}]}""",
            """{"inputs":[{"name":"input","datatype":"INT32","shape":[2,4],"data":[1,2,3,4,5,6,7,8]}]}""",
            """{"inputs":[{"name":"input","datatype":"FP32","shape":[2,4],"data":[1,2,3""",
        ];
        bad.Should().HaveCount(Bad);
        foreach (var body in bad)
        {
            using var response = await client.PostAsync(V2Requests.InferUri("mlp"), V2Requests.Json(body));
            response.StatusCode.Should().Be(HttpStatusCode.BadRequest, await response.Content.ReadAsStringAsync());
        }
    }

    /// <summary>The first <paramref name="rows"/> rows of the mlp reference input.</summary>
    private static ReferenceCase Batch(int rows)
    {
        var reference = ReferenceCase.Bundled("mlp", 1);
        var input = reference.Inputs[0];
        var width = (int)input.Shape[1];
        var data = JsonSerializer.SerializeToElement(input.Data.EnumerateArray().Take(rows * width).Select(e => e.GetDouble()).ToArray());
        return reference with { Inputs = [input with { Shape = [rows, width], Data = data }] };
    }

    private static async Task<Exposition> ScrapeAsync(HttpClient client)
    {
        using var response = await client.GetAsync(Relative("/metrics"));
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        return Exposition.Parse(await response.Content.ReadAsStringAsync());
    }

    /// <summary>The <c>model_stats</c> entries of a statistics route, asserting 200 and the envelope.</summary>
    private static async Task<List<JsonElement>> StatsAsync(HttpClient client, string path)
    {
        using var response = await client.GetAsync(Relative(path));
        var text = await response.Content.ReadAsStringAsync();
        response.StatusCode.Should().Be(HttpStatusCode.OK, "{0}: {1}", path, text);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/json");
        using var document = JsonDocument.Parse(text);
        document.RootElement.EnumerateObject().Select(p => p.Name).Should().Equal(["model_stats"], path);
        return document.RootElement.GetProperty("model_stats").EnumerateArray().Select(entry => entry.Clone()).ToList();
    }

    /// <summary>Every field of PROTOCOL.md §4.3, with its JSON type, and no other but our documented <c>explain_stats</c> (docs/explain.md).</summary>
    private static void ShouldHaveTritonSchema(JsonElement entry, string model, string version)
    {
        entry.EnumerateObject().Select(p => p.Name).Should().BeEquivalentTo(
            ["name", "version", "last_inference", "inference_count", "execution_count", "inference_stats", "response_stats", "batch_stats", "memory_usage", "explain_stats"]);
        var explain = entry.GetProperty("explain_stats");
        explain.EnumerateObject().Select(p => p.Name).Should().BeEquivalentTo(["success", "fail", "evaluation_count"]);
        ShouldBeDurationStat(explain.GetProperty("success"), "explain_stats.success");
        ShouldBeDurationStat(explain.GetProperty("fail"), "explain_stats.fail");
        explain.GetProperty("evaluation_count").GetInt64().Should().Be(0, "no explanation was asked");
        entry.GetProperty("name").GetString().Should().Be(model);
        entry.GetProperty("version").ValueKind.Should().Be(JsonValueKind.String, "the version is a string, as in Triton");
        entry.GetProperty("version").GetString().Should().Be(version);
        foreach (var counter in new[] { "last_inference", "inference_count", "execution_count" })
        {
            entry.GetProperty(counter).ValueKind.Should().Be(JsonValueKind.Number, counter);
            entry.GetProperty(counter).GetInt64().Should().BeGreaterThanOrEqualTo(0, counter);
        }

        var stats = entry.GetProperty("inference_stats");
        stats.EnumerateObject().Select(p => p.Name).Should().BeEquivalentTo(
            ["success", "fail", "queue", "compute_input", "compute_infer", "compute_output", "cache_hit", "cache_miss"]);
        foreach (var stat in stats.EnumerateObject())
        {
            ShouldBeDurationStat(stat.Value, "inference_stats." + stat.Name);
        }

        entry.GetProperty("response_stats").ValueKind.Should().Be(JsonValueKind.Object);
        entry.GetProperty("batch_stats").ValueKind.Should().Be(JsonValueKind.Array);
        foreach (var batch in entry.GetProperty("batch_stats").EnumerateArray())
        {
            batch.EnumerateObject().Select(p => p.Name).Should().BeEquivalentTo(["batch_size", "compute_input", "compute_infer", "compute_output"]);
            batch.GetProperty("batch_size").GetInt64().Should().BePositive();
            foreach (var stage in new[] { "compute_input", "compute_infer", "compute_output" })
            {
                ShouldBeDurationStat(batch.GetProperty(stage), "batch_stats." + stage);
            }
        }

        entry.GetProperty("memory_usage").ValueKind.Should().Be(JsonValueKind.Array);
    }

    private static void ShouldBeDurationStat(JsonElement stat, string what)
    {
        stat.EnumerateObject().Select(p => p.Name).Should().BeEquivalentTo(["count", "ns"], what);
        stat.GetProperty("count").GetInt64().Should().BeGreaterThanOrEqualTo(0, what);
        stat.GetProperty("ns").GetInt64().Should().BeGreaterThanOrEqualTo(0, what);
    }

    private static void ShouldCountAndTakeTime(JsonElement parent, string name, long count, string path)
    {
        var (actualCount, ns) = Duration(parent, name);
        actualCount.Should().Be(count, "{0}: {1}.count", path, name);
        ns.Should().BePositive("{0}: {1}.ns accumulates the requests' time", path, name);
    }

    private static (long Count, long Ns) Duration(JsonElement parent, string name)
    {
        var stat = parent.GetProperty(name);
        return (stat.GetProperty("count").GetInt64(), stat.GetProperty("ns").GetInt64());
    }

    /// <summary>One sample line: <c>name{labels} value</c>.</summary>
    private sealed record Sample(string Name, IReadOnlyDictionary<string, string> Labels, double Value, string Series);

    /// <summary>
    /// A strict reader of the Prometheus text format: every line is a <c># HELP</c>, a <c># TYPE</c> (once per
    /// family, before its samples) or a sample <c>name{labels} number</c> / <c>name number</c> of the family declared
    /// last (<c>_bucket</c>, <c>_sum</c>, <c>_count</c> for a histogram).
    /// </summary>
    private sealed partial class Exposition
    {
        private Exposition(string text, List<Sample> samples, Dictionary<string, string> types)
        {
            Text = text;
            Samples = samples;
            Types = types;
        }

        public string Text { get; }

        public List<Sample> Samples { get; }

        public Dictionary<string, string> Types { get; }

        public static Exposition Parse(string text)
        {
            text.Should().EndWith("\n", "the exposition ends with a newline");
            var samples = new List<Sample>();
            var types = new Dictionary<string, string>(StringComparer.Ordinal);
            var helps = new HashSet<string>(StringComparer.Ordinal);
            string? family = null;
            foreach (var line in text[..^1].Split('\n'))
            {
                if (line.StartsWith("# HELP ", StringComparison.Ordinal))
                {
                    var name = line["# HELP ".Length..].Split(' ')[0];
                    helps.Add(name).Should().BeTrue("HELP for {0} appears once", name);
                    continue;
                }

                if (line.StartsWith("# TYPE ", StringComparison.Ordinal))
                {
                    var parts = line.Split(' ');
                    parts.Should().HaveCount(4, "a TYPE line is '# TYPE name type': {0}", line);
                    parts[3].Should().BeOneOf(["counter", "gauge", "histogram", "summary", "untyped"], line);
                    types.TryAdd(parts[2], parts[3]).Should().BeTrue("TYPE for {0} appears once", parts[2]);
                    family = parts[2];
                    continue;
                }

                line.Should().NotStartWith("#", "comments are HELP or TYPE: {0}", line);
                var match = SampleLine().Match(line);
                match.Success.Should().BeTrue("'{0}' should parse as name{{labels}} number", line);
                var sampleName = match.Groups["name"].Value;
                family.Should().NotBeNull("sample {0} follows a TYPE line", sampleName);
                var belongs = sampleName == family
                    || (types[family!] == "histogram" && (sampleName == family + "_bucket" || sampleName == family + "_sum" || sampleName == family + "_count"))
                    || (types[family!] == "summary" && (sampleName == family + "_sum" || sampleName == family + "_count"));
                belongs.Should().BeTrue("sample {0} should belong to the family declared before it, {1}", sampleName, family);
                var labels = new Dictionary<string, string>(StringComparer.Ordinal);
                foreach (Match label in LabelPair().Matches(match.Groups["labels"].Value))
                {
                    labels.TryAdd(label.Groups["key"].Value, Unescape(label.Groups["value"].Value)).Should().BeTrue("label names are unique: {0}", line);
                }

                var value = double.Parse(match.Groups["value"].Value, NumberStyles.Float, CultureInfo.InvariantCulture);
                samples.Add(new Sample(sampleName, labels, value, match.Groups["name"].Value + "{" + match.Groups["labels"].Value + "}"));
            }

            return new Exposition(text, samples, types);
        }

        /// <summary>The value of the one sample of <paramref name="name"/> with (at least) these labels.</summary>
        public double Value(string name, params (string Key, string Value)[] labels)
        {
            var matches = Samples.Where(sample => sample.Name == name
                && labels.All(label => sample.Labels.TryGetValue(label.Key, out var value) && value == label.Value)
                && (labels.Length > 0 || sample.Labels.Count == 0)).ToList();
            matches.Should().ContainSingle("/metrics should have one {0}{{{1}}}", name, string.Join(",", labels.Select(l => $"{l.Key}=\"{l.Value}\"")));
            return matches[0].Value;
        }

        /// <summary>Buckets at every bound, cumulative, ending in +Inf equal to _count equal to <paramref name="count"/>.</summary>
        public void ShouldBeCumulativeHistogram(string name, (string Key, string Value)[] labels, long count)
        {
            var buckets = Samples.Where(sample => sample.Name == name + "_bucket"
                && labels.All(label => sample.Labels.TryGetValue(label.Key, out var value) && value == label.Value)).ToList();
            buckets.Should().HaveCountGreaterThan(1, name);
            buckets[^1].Labels["le"].Should().Be("+Inf", "{0}: the last bucket is +Inf", name);
            var bounds = buckets[..^1].Select(bucket => double.Parse(bucket.Labels["le"], CultureInfo.InvariantCulture)).ToList();
            bounds.Should().BeInAscendingOrder(name).And.OnlyHaveUniqueItems(name);
            buckets.Select(bucket => bucket.Value).Should().BeInAscendingOrder("{0}: buckets are cumulative", name);
            buckets[^1].Value.Should().Be(count, name);
            Value(name + "_count", labels).Should().Be(count, name);
        }

        [GeneratedRegex("""^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(?<labels>[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*"(?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*")*)\})? (?<value>[-+]?(?:[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?|Inf|NaN))$""")]
        private static partial Regex SampleLine();

        [GeneratedRegex(@"(?<key>[a-zA-Z_][a-zA-Z0-9_]*)=""(?<value>(?:[^""\\\n]|\\.)*)""")]
        private static partial Regex LabelPair();

        private static string Unescape(string value) =>
            value.Replace("\\n", "\n", StringComparison.Ordinal).Replace("\\\"", "\"", StringComparison.Ordinal).Replace("\\\\", "\\", StringComparison.Ordinal);
    }
}
