using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using MaaS.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Trace;

namespace MaaS.Server.Tests.Explain;

/// <summary>Explanations are their own series in /metrics (not counted as inferences) and their own span in traces.</summary>
public sealed partial class ExplainMonitoringTests
{
    [Fact]
    public async Task Metrics_AfterExplanations_CountsThemApartFromInference()
    {
        using var server = await IsolatedServer.StartAsync("mlp");
        var reference = ReferenceCase.Bundled("mlp", 1);
        for (var i = 0; i < 2; i++)
        {
            await ExplainRequests.PostAsync(server.Client, "mlp", ExplainRequests.Body(reference, new JsonObject { ["method"] = "shapley" }));
        }

        using (var bad = await server.Client.PostAsync(ExplainRequests.ExplainUri("mlp"), V2Requests.Json(ExplainRequests.Body(reference, new JsonObject { ["method"] = "lime" }))))
        {
            bad.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        }

        var metrics = await server.Client.GetStringAsync(new Uri("/metrics", UriKind.Relative));

        Value(metrics, "maas_explain_request_success").Should().Be(2);
        Value(metrics, "maas_explain_request_failure").Should().Be(1);
        Value(metrics, "maas_explain_evaluation_count").Should().Be(2 * 3 * 16, "3 rows of 4 features: 2^4 evaluations each");
        Value(metrics, "maas_explain_request_duration_us").Should().BePositive();
        Value(metrics, "nv_inference_request_success").Should().Be(0, "explanations are not counted as inference requests");
        metrics.Should().Contain("http_server_requests_total{method=\"POST\",route=\"/v2/models/{modelName}/explain\",status=\"200\"} 2");
        using var stats = System.Text.Json.JsonDocument.Parse(await server.Client.GetStringAsync(new Uri("/v2/models/mlp/stats", UriKind.Relative)));
        var entry = stats.RootElement.GetProperty("model_stats")[0];
        entry.GetProperty("inference_stats").GetProperty("success").GetProperty("count").GetInt64().Should().Be(0);
        var explain = entry.GetProperty("explain_stats");
        explain.GetProperty("success").GetProperty("count").GetInt64().Should().Be(2);
        explain.GetProperty("success").GetProperty("ns").GetInt64().Should().BePositive();
        explain.GetProperty("fail").GetProperty("count").GetInt64().Should().Be(1);
        explain.GetProperty("evaluation_count").GetInt64().Should().Be(2 * 3 * 16);
    }

    [Fact]
    public async Task Explain_WhenTraced_EmitsAnExplainSpanWithMethodAndEvaluations()
    {
        var spans = new List<Activity>();
        using var repository = new TempRepository().CopyModel(RepositoryPaths.Models, "mlp");
        using var app = new ConfiguredApplication(repository.Path, services => services.AddOpenTelemetry().WithTracing(tracing => tracing
            .AddSource("MaaS")
            .AddAspNetCoreInstrumentation()
            .AddInMemoryExporter(spans)));
        using var client = await app.CreateReadyClientAsync();

        await ExplainRequests.PostAsync(client, "mlp", ExplainRequests.Body(ReferenceCase.Bundled("mlp", 1), new JsonObject { ["method"] = "occlusion" }));

        Activity? span = null;
        for (var i = 0; i < 250 && span is null; i++)
        {
            span = Snapshot(spans).FirstOrDefault(candidate => candidate.OperationName == "maas.explain" && (string?)candidate.GetTagItem("maas.model") == "mlp");
            if (span is null)
            {
                await Task.Delay(20);
            }
        }

        span.Should().NotBeNull("the explanation has its own span");
        span!.GetTagItem("maas.explain.method").Should().Be("occlusion");
        span.GetTagItem("maas.explain.evaluations").Should().Be(3 * 6);
    }

    /// <summary>The spans so far; the exporter may append while the list is copied (listeners are process-wide), so copy again then.</summary>
    private static List<Activity> Snapshot(List<Activity> spans)
    {
        while (true)
        {
            try
            {
                return [.. spans.ToArray().Where(span => span is not null)];
            }
            catch (ArgumentException)
            {
                // Appended during the copy.
            }
        }
    }

    private static double Value(string metrics, string family)
    {
        var match = Regex.Match(metrics, $"^{family}\\{{model=\"mlp\",version=\"1\"\\}} (\\S+)$", RegexOptions.Multiline);
        match.Success.Should().BeTrue("{0} has a sample for mlp v1", family);
        return double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
    }
}
