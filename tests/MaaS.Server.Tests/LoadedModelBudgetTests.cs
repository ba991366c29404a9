using System.Net;
using System.Text.RegularExpressions;
using MaaS.Server.Tests.Infrastructure;

namespace MaaS.Server.Tests;

/// <summary>The bundled repository (6 models, 7 versions) served from a budget of two loaded versions, over HTTP.</summary>
public sealed partial class LoadedModelBudgetTests
{
    private static readonly (string Model, int Version)[] Order =
        [("mlp", 1), ("cnn", 1), ("rnn", 1), ("transformer", 1), ("rnn", 2), ("mlp", 1), ("transformer", 1), ("cnn", 1), ("rnn", 1), ("linear", 1), ("logistic", 1)];

    [Fact]
    public async Task Infer_EveryModelInTurn_AnswersLikePyTorchWithNeverMoreThanTwoLoaded()
    {
        using var app = new RepositoryApplication(RepositoryPaths.SmallModels, new Dictionary<string, string?> { ["MaaS:Sessions:MaxLoadedVersions"] = "2" });
        using var client = await app.CreateReadyClientAsync();

        foreach (var (model, version) in Order)
        {
            var reference = ReferenceCase.Bundled(model, version);
            using var response = await client.PostAsync(V2Requests.InferUri(model, version), V2Requests.Json(V2Requests.JsonBody(reference)));
            response.StatusCode.Should().Be(HttpStatusCode.OK, "{0} v{1} must answer while others are evicted", model, version);
            var reply = await InferReply.ReadAsync(response);
            foreach (var expected in reference.Outputs)
            {
                reply.ShouldMatch(expected, 1e-4);
            }

            (await MetricAsync(client, "maas_loaded_versions")).Should().BeLessThanOrEqualTo(2);
        }

        (await MetricAsync(client, "maas_model_evictions_total")).Should().BeGreaterThan(0);
    }

    [Fact]
    public async Task Index_EvictedVersions_AreUnavailableWithReasonButStillReady()
    {
        using var app = new RepositoryApplication(RepositoryPaths.SmallModels, new Dictionary<string, string?> { ["MaaS:Sessions:MaxLoadedVersions"] = "2" });
        using var client = await app.CreateReadyClientAsync();

        using var index = await client.PostAsync(new Uri("/v2/repository/index", UriKind.Relative), null);
        var body = await index.Content.ReadAsStringAsync();
        EvictedEntry().Count(body).Should().Be(5, "seven versions, two loaded: {0}", body);
        foreach (var model in new[] { "mlp", "cnn", "rnn", "transformer", "linear", "logistic" })
        {
            using var ready = await client.GetAsync(new Uri($"/v2/models/{model}/ready", UriKind.Relative));
            ready.StatusCode.Should().Be(HttpStatusCode.OK, "an evicted model is still ready for routing");
        }

        using var health = await client.GetAsync(new Uri("/v2/health/ready", UriKind.Relative));
        health.StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Theory]
    [InlineData("{\"inputs\": [")]
    [InlineData("{\"inputs\": [{\"name\": \"input\", \"datatype\": \"FP32\", \"shape\": [1, 5], \"data\": [1, 2, 3, 4, 5]}]}")]
    [InlineData("{\"inputs\": [{\"name\": \"nope\", \"datatype\": \"FP32\", \"shape\": [1, 4], \"data\": [1, 2, 3, 4]}]}")]
    public async Task Infer_BadBodyForAnEvictedVersion_Is400AndLoadsNothing(string body)
    {
        using var app = new RepositoryApplication(RepositoryPaths.SmallModels, new Dictionary<string, string?> { ["MaaS:Sessions:MaxLoadedVersions"] = "1" });
        using var client = await app.CreateReadyClientAsync();
        using (var index = await client.PostAsync(new Uri("/v2/repository/index", UriKind.Relative), null))
        {
            (await index.Content.ReadAsStringAsync()).Should().Contain("{\"name\":\"mlp\",\"version\":\"1\",\"state\":\"UNAVAILABLE\",\"reason\":\"evicted\"}");
        }

        var loads = await MetricAsync(client, "maas_model_loads_total");

        using var response = await client.PostAsync(V2Requests.InferUri("mlp", 1), V2Requests.Json(body));

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest, await response.Content.ReadAsStringAsync());
        (await MetricAsync(client, "maas_model_loads_total")).Should().Be(loads, "the body was refused against the evicted version's signature, before anything loaded");
        using var good = await client.PostAsync(V2Requests.InferUri("mlp", 1), V2Requests.Json(V2Requests.JsonBody(ReferenceCase.Bundled("mlp", 1))));
        good.StatusCode.Should().Be(HttpStatusCode.OK);
        (await MetricAsync(client, "maas_model_loads_total")).Should().Be(loads + 1, "a good body does load it");
    }

    [Fact]
    public async Task Metrics_ReportProviderAndLoadDurations()
    {
        using var app = new RepositoryApplication(RepositoryPaths.SmallModels);
        using var client = await app.CreateReadyClientAsync();

        var metrics = await client.GetStringAsync(new Uri("/metrics", UriKind.Relative));

        metrics.Should().Contain("maas_execution_provider{provider=\"cpu\"} 1")
            .And.Contain("nv_model_load_duration_secs{model=\"mlp\",version=\"1\"}")
            .And.Contain("maas_model_warmup_duration_seconds{model=\"transformer\",version=\"1\"}");
        (await MetricAsync(client, "maas_loaded_versions")).Should().Be(7);
    }

    private static async Task<long> MetricAsync(HttpClient client, string name)
    {
        var metrics = await client.GetStringAsync(new Uri("/metrics", UriKind.Relative));
        var line = metrics.Split('\n').Single(line => line.StartsWith(name + " ", StringComparison.Ordinal));
        return long.Parse(line[(name.Length + 1)..], System.Globalization.CultureInfo.InvariantCulture);
    }

    [GeneratedRegex("\"state\":\"UNAVAILABLE\",\"reason\":\"evicted\"")]
    private static partial Regex EvictedEntry();
}
