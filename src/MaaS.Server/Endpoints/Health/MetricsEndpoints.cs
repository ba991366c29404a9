using System.Globalization;
using System.Text;
using MaaS.Core.Registry;
using MaaS.Core.Sessions;

namespace MaaS.Server.Endpoints.Health;

/// <summary>
/// <c>GET /metrics</c> in Prometheus text format: the execution provider in effect, the loaded-model cache (versions
/// and bytes loaded, loads, evictions) and, per loaded version, Triton's <c>nv_model_load_duration_secs</c> and the
/// warmup time. Label values come from the registry only, never from requests.
/// </summary>
internal static class MetricsEndpoints
{
    public static RouteHandlerBuilder MapMetrics(this IEndpointRouteBuilder routes) =>
        routes.MapGet("/metrics", GetMetrics).WithTags("Health").WithSummary("Prometheus metrics.").Produces<string>(contentType: "text/plain");

    private static Microsoft.AspNetCore.Http.HttpResults.ContentHttpResult GetMetrics(ModelRegistry registry, ModelManager manager, IExecutionProviderFactory provider)
    {
        var text = new StringBuilder();
        Gauge(text, "maas_execution_provider", "Execution provider in effect (1).", $"{{provider=\"{provider.Name}\"}} 1");
        var loaded = registry.LoadedVersions.ToList();
        Gauge(text, "maas_loaded_versions", "Model versions loaded now.", $" {loaded.Count}");
        Gauge(text, "maas_loaded_bytes", "Bytes the loaded versions took when they loaded.", $" {manager.LoadedBytes}");
        Counter(text, "maas_model_loads_total", "Model versions loaded since start.", $" {manager.Loads}");
        Counter(text, "maas_model_evictions_total", "Model versions evicted to stay within the loaded-model budget.", $" {manager.Evictions}");
        Header(text, "nv_model_load_duration_secs", "gauge", "Time to load the model version, seconds.");
        foreach (var (model, version) in loaded)
        {
            Sample(text, "nv_model_load_duration_secs", model.Name, version.Number, version.Durations!.Value.Load.TotalSeconds);
        }

        Header(text, "maas_model_warmup_duration_seconds", "gauge", "Time the version's warmup took, seconds.");
        foreach (var (model, version) in loaded)
        {
            Sample(text, "maas_model_warmup_duration_seconds", model.Name, version.Number, version.Durations!.Value.Warmup.TotalSeconds);
        }

        return TypedResults.Text(text.ToString(), "text/plain; version=0.0.4; charset=utf-8");
    }

    private static void Gauge(StringBuilder text, string name, string help, string sample)
    {
        Header(text, name, "gauge", help);
        text.Append(name).Append(sample).Append('\n');
    }

    private static void Counter(StringBuilder text, string name, string help, string sample)
    {
        Header(text, name, "counter", help);
        text.Append(name).Append(sample).Append('\n');
    }

    private static void Header(StringBuilder text, string name, string type, string help) =>
        text.Append("# HELP ").Append(name).Append(' ').Append(help).Append("\n# TYPE ").Append(name).Append(' ').Append(type).Append('\n');

    // Model names are [A-Za-z0-9_.-] (the repository refuses others), so they need no escaping in a label value.
    private static void Sample(StringBuilder text, string name, string model, long version, double value) =>
        text.Append(CultureInfo.InvariantCulture, $"{name}{{model=\"{model}\",version=\"{version}\"}} {value:0.######}\n");
}
