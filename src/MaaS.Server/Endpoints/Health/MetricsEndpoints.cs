using System.Diagnostics;
using System.Globalization;
using System.Text;
using MaaS.Core.Registry;
using MaaS.Core.Sessions;
using MaaS.Server.Hosting;
using MaaS.Server.Hosting.Metrics;

namespace MaaS.Server.Endpoints.Health;

/// <summary>
/// <c>GET /metrics</c> in Prometheus text format: Triton's per-model series (same names, labels model and version, no
/// _total suffix, present at 0 from load), latency histograms per model, the loaded-model cache, the execution
/// provider, HTTP requests and the process. Label values come from the registry and route templates only.
/// </summary>
internal static class MetricsEndpoints
{
    private static readonly string[] FailureReasons = ["REJECTED", "CANCELED", "BACKEND", "OTHER"];

    public static RouteHandlerBuilder MapMetrics(this IEndpointRouteBuilder routes) =>
        routes.MapGet("/metrics", GetMetrics).WithTags("Health").WithSummary("Prometheus metrics.").Produces<string>(contentType: "text/plain");

    private static Microsoft.AspNetCore.Http.HttpResults.ContentHttpResult GetMetrics(
        ModelRegistry registry, LoadedModelCache cache, IExecutionProviderFactory provider, InferenceStatistics statistics, HttpRequestMetrics http,
        InferenceLimits limits, LogBufferMonitor logs)
    {
        var text = new StringBuilder();
        // One consistent view of the registry for the whole scrape, however it changes meanwhile.
        // A pipeline model's series are under its inner model's versions, as in its statistics.
        var versions = registry.Models
            .SelectMany(model => (InferenceStatistics.VersionSource(registry, model)?.ReadyVersions ?? []).Select(v => (Model: model.Name, Version: v)))
            .ToList();
        WriteInferenceSeries(text, versions, statistics);
        WriteHistograms(text, versions, statistics);
        WriteCache(text, registry, cache, provider);
        WriteLimits(text, limits);
        WriteHttp(text, http);
        WriteLogBuffer(text, logs);
        WriteProcess(text);
        return TypedResults.Text(text.ToString(), "text/plain; version=0.0.4; charset=utf-8");
    }

    private static void WriteInferenceSeries(StringBuilder text, List<(string Model, ModelVersion Version)> versions, InferenceStatistics statistics)
    {
        var stats = versions.Select(entry => (entry.Model, entry.Version, Stats: statistics.For(entry.Model, entry.Version.Number))).ToList();
        Family(text, "nv_inference_request_success", "counter", "Successful inference requests (a batch counts once).", stats, s => s.Stats.Success.Count);
        Header(text, "nv_inference_request_failure", "counter", "Failed inference requests, by reason.");
        foreach (var (model, version, s) in stats)
        {
            foreach (var reason in FailureReasons)
            {
                var count = s.FailuresByReason.TryGetValue(reason, out var failures) ? failures.Count : 0;
                Line(text, "nv_inference_request_failure", $"model=\"{model}\",version=\"{version.Number}\",reason=\"{reason}\"", count);
            }
        }

        Family(text, "nv_inference_count", "counter", "Inferences performed (a batch of n counts n).", stats, s => s.Stats.InferenceCount);
        Family(text, "nv_inference_exec_count", "counter", "Model executions (a batch counts once).", stats, s => s.Stats.ExecutionCount);
        Family(text, "nv_inference_request_duration_us", "counter", "Cumulative end-to-end time of successful requests, microseconds.", stats, s => Micro(s.Stats.Success));
        Family(text, "nv_inference_queue_duration_us", "counter", "Cumulative time waiting for a model instance, microseconds.", stats, s => Micro(s.Stats.Queue));
        Family(text, "nv_inference_compute_input_duration_us", "counter", "Cumulative input decoding and preparation time, microseconds.", stats, s => Micro(s.Stats.ComputeInput));
        Family(text, "nv_inference_compute_infer_duration_us", "counter", "Cumulative model execution time, microseconds.", stats, s => Micro(s.Stats.ComputeInfer));
        Family(text, "nv_inference_compute_output_duration_us", "counter", "Cumulative output preparation and encoding time, microseconds.", stats, s => Micro(s.Stats.ComputeOutput));
        Family(text, "maas_explain_request_success", "counter", "Successful explanation requests (/explain, :explain).", stats, s => s.Stats.ExplainSuccess.Count);
        Family(text, "maas_explain_request_failure", "counter", "Failed explanation requests.", stats, s => s.Stats.ExplainFail.Count);
        Family(text, "maas_explain_request_duration_us", "counter", "Cumulative end-to-end time of successful explanations, microseconds.", stats, s => Micro(s.Stats.ExplainSuccess));
        Family(text, "maas_explain_evaluation_count", "counter", "Forward passes (rows) run by successful explanations.", stats, s => s.Stats.ExplainEvaluations);
        Family(text, "nv_inference_pending_request_count", "gauge", "Requests waiting for a model instance, not yet executing.", stats, s => s.Version.QueuedRequests);
        Header(text, "nv_model_load_duration_secs", "gauge", "Time to load the model version (sessions and warmup), seconds.");
        foreach (var (model, version, _) in stats.Where(s => s.Version.Durations is not null))
        {
            Line(text, "nv_model_load_duration_secs", Labels(model, version), version.Durations!.Value.Load.TotalSeconds);
        }

        Header(text, "maas_model_warmup_duration_seconds", "gauge", "Time the version's warmup took, seconds.");
        foreach (var (model, version, _) in stats.Where(s => s.Version.Durations is not null))
        {
            Line(text, "maas_model_warmup_duration_seconds", Labels(model, version), version.Durations!.Value.Warmup.TotalSeconds);
        }

        WriteInstances(text, stats.Select(s => (s.Model, s.Version)).ToList());
    }

    /// <summary>Each loaded version's instances and threads, and with the automatic choice what each candidate measured.</summary>
    private static void WriteInstances(StringBuilder text, List<(string Model, ModelVersion Version)> versions)
    {
        var loaded = versions.Where(v => v.Version.Instances is not null).Select(v => (v.Model, v.Version, Choice: v.Version.Instances!)).ToList();
        Header(text, "maas_model_instances", "gauge", "Sessions the version runs (instance_group count), by how the count was chosen.");
        foreach (var (model, version, choice) in loaded)
        {
            Line(text, "maas_model_instances", $"{Labels(model, version)},source=\"{choice.Source}\"", choice.Instances);
        }

        Header(text, "maas_model_instance_threads", "gauge", "Intra-op threads of each of the version's sessions.");
        foreach (var (model, version, choice) in loaded)
        {
            Line(text, "maas_model_instance_threads", Labels(model, version), choice.IntraOpThreads);
        }

        Header(text, "maas_model_lone_request_threads", "gauge",
            "Intra-op threads of the version's lone-request session, which runs a request that finds every instance idle; 0 when it has none.");
        foreach (var (model, version, choice) in loaded)
        {
            Line(text, "maas_model_lone_request_threads", Labels(model, version), choice.LoneRequestThreads ?? 0);
        }

        Header(text, "maas_model_instance_choice_runs_per_second", "gauge",
            "Throughput each candidate reached in the timed choice at load (MaaS:Sessions:InstanceCount auto), by candidate instance count.");
        foreach (var (model, version, choice) in loaded)
        {
            foreach (var timing in choice.Timings)
            {
                Line(text, "maas_model_instance_choice_runs_per_second", $"{Labels(model, version)},instances=\"{timing.Instances}\"", timing.RunsPerSecond);
            }
        }
    }

    private static void WriteHistograms(StringBuilder text, List<(string Model, ModelVersion Version)> versions, InferenceStatistics statistics)
    {
        var families = new (string Name, string Help, Func<VersionStatistics, LatencyHistogram> Pick)[]
        {
            ("maas_inference_request_duration_seconds", "End-to-end inference request latency (successful requests), seconds.", s => s.RequestLatency),
            ("maas_inference_queue_duration_seconds", "Time waiting for a model instance, seconds.", s => s.QueueLatency),
            ("maas_inference_compute_duration_seconds", "Input preparation, execution and output preparation, seconds.", s => s.ComputeLatency),
        };
        foreach (var (name, help, pick) in families)
        {
            Header(text, name, "histogram", help);
            foreach (var (model, version) in versions)
            {
                var histogram = pick(statistics.For(model, version.Number));
                var labels = Labels(model, version);
                for (var i = 0; i < LatencyHistogram.Bounds.Length; i++)
                {
                    Line(text, name + "_bucket", $"{labels},le=\"{LatencyHistogram.Bounds[i].ToString(CultureInfo.InvariantCulture)}\"", histogram.CumulativeCount(i));
                }

                Line(text, name + "_bucket", $"{labels},le=\"+Inf\"", histogram.Count);
                Line(text, name + "_sum", labels, histogram.SumSeconds);
                Line(text, name + "_count", labels, histogram.Count);
            }
        }
    }

    private static void WriteCache(StringBuilder text, ModelRegistry registry, LoadedModelCache cache, IExecutionProviderFactory provider)
    {
        Header(text, "maas_execution_provider", "gauge", "Execution provider in effect (1).");
        Line(text, "maas_execution_provider", $"provider=\"{provider.Name}\"", 1);
        Single(text, "maas_loaded_versions", "gauge", "Model versions loaded now.", registry.LoadedVersions.Count());
        Single(text, "maas_loaded_bytes", "gauge", "Bytes the loaded versions took when they loaded.", cache.LoadedBytes);
        Single(text, "maas_model_loads_total", "counter", "Model versions loaded since start.", cache.Loads);
        Single(text, "maas_model_evictions_total", "counter", "Model versions evicted to stay within the loaded-model budget.", cache.Evictions);
    }

    private static void WriteLimits(StringBuilder text, InferenceLimits limits)
    {
        Single(text, "maas_inference_in_flight", "gauge", "Inference requests running now (at most maas_inference_max_in_flight).", limits.InFlight);
        Single(text, "maas_inference_max_in_flight", "gauge", "Inference requests that may run at once (MaaS:Limits:MaxInFlight).", limits.MaxInFlight);
        Single(text, "maas_inference_queued", "gauge", "Inference requests waiting for a slot now (at most maas_inference_max_queued).", limits.Queued);
        Single(text, "maas_inference_max_queued", "gauge", "Inference requests that may wait for a slot (MaaS:Limits:MaxQueued).", limits.MaxQueued);
        Header(text, "maas_inference_rejected_total", "counter", "Inference requests refused with 503 because the server was at a limit, by reason.");
        foreach (var (reason, count) in limits.Rejected)
        {
            Line(text, "maas_inference_rejected_total", $"reason=\"{reason}\"", count);
        }
    }

    private static void WriteHttp(StringBuilder text, HttpRequestMetrics http)
    {
        var requests = http.Requests.OrderBy(pair => pair.Key.Route, StringComparer.Ordinal).ThenBy(pair => pair.Key.Status).ToList();
        Header(text, "http_server_requests_total", "counter", "HTTP requests, by method, route template and status.");
        foreach (var (key, stat) in requests)
        {
            Line(text, "http_server_requests_total", $"method=\"{key.Method}\",route=\"{Escape(key.Route)}\",status=\"{key.Status}\"", stat.Count);
        }

        Header(text, "http_server_request_duration_seconds", "summary", "Time of HTTP requests, by method, route template and status, seconds.");
        foreach (var (key, stat) in requests)
        {
            var labels = $"method=\"{key.Method}\",route=\"{Escape(key.Route)}\",status=\"{key.Status}\"";
            Line(text, "http_server_request_duration_seconds_sum", labels, stat.Nanoseconds / 1e9);
            Line(text, "http_server_request_duration_seconds_count", labels, stat.Count);
        }
    }

    private static void WriteLogBuffer(StringBuilder text, LogBufferMonitor logs)
    {
        Single(text, "maas_log_events_dropped_total", "counter", "Log events dropped because the log buffer was full (stdout slower than the server).", logs.Dropped);
        Single(text, "maas_log_events_queued", "gauge", "Log events waiting to be written now (at most MaaS:Logging:BufferSize).", logs.Queued);
    }

    private static void WriteProcess(StringBuilder text)
    {
        using var process = Process.GetCurrentProcess();
        Single(text, "process_cpu_seconds_total", "counter", "CPU time used by the process, seconds.", process.TotalProcessorTime.TotalSeconds);
        Single(text, "process_resident_memory_bytes", "gauge", "Resident memory of the process, bytes.", process.WorkingSet64);
        Single(text, "dotnet_gc_heap_bytes", "gauge", "Managed heap size, bytes.", GC.GetTotalMemory(forceFullCollection: false));
        Header(text, "dotnet_gc_collections_total", "counter", "Garbage collections, by generation.");
        for (var generation = 0; generation <= GC.MaxGeneration; generation++)
        {
            Line(text, "dotnet_gc_collections_total", $"generation=\"{generation}\"", GC.CollectionCount(generation));
        }

        Single(text, "dotnet_threadpool_threads", "gauge", "Thread pool threads.", ThreadPool.ThreadCount);
        Single(text, "dotnet_threadpool_queue_length", "gauge", "Work items waiting for a thread pool thread.", ThreadPool.PendingWorkItemCount);
    }

    private static void Family(
        StringBuilder text, string name, string type, string help,
        List<(string Model, ModelVersion Version, VersionStatistics Stats)> stats, Func<(string Model, ModelVersion Version, VersionStatistics Stats), double> value)
    {
        Header(text, name, type, help);
        foreach (var entry in stats)
        {
            Line(text, name, Labels(entry.Model, entry.Version), value(entry));
        }
    }

    // Model names are [A-Za-z0-9_.-] (the repository refuses others), so they need no escaping in a label value.
    private static string Labels(string model, ModelVersion version) => $"model=\"{model}\",version=\"{version.Number}\"";

    private static double Micro(DurationStat stat) => stat.Nanoseconds / 1000;

    private static string Escape(string value) => value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal);

    /// <summary>A metric with one unlabelled value: its HELP and TYPE lines, then the value.</summary>
    private static void Single(StringBuilder text, string name, string type, string help, double value)
    {
        Header(text, name, type, help);
        Line(text, name, null, value);
    }

    private static void Header(StringBuilder text, string name, string type, string help) =>
        text.Append("# HELP ").Append(name).Append(' ').Append(help).Append("\n# TYPE ").Append(name).Append(' ').Append(type).Append('\n');

    private static void Line(StringBuilder text, string name, string? labels, double value)
    {
        text.Append(name);
        if (labels is not null)
        {
            text.Append('{').Append(labels).Append('}');
        }

        text.Append(' ').Append(value.ToString("0.#########", CultureInfo.InvariantCulture)).Append('\n');
    }
}
