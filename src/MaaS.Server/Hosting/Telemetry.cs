using System.ComponentModel.DataAnnotations;
using System.Diagnostics;
using MaaS.Core.Inference;
using OpenTelemetry.Trace;

namespace MaaS.Server.Hosting;

/// <summary>The <c>MaaS:Telemetry</c> section.</summary>
internal sealed class TelemetryOptions
{
    public const string SectionName = "MaaS:Telemetry";

    /// <summary>OTLP endpoint (e.g. http://collector:4317) to export traces to; unset (default): nothing is exported.</summary>
    [Url]
    public string? OtlpEndpoint { get; set; }
}

/// <summary>
/// Spans of an inference, under the request's span (which continues the caller's W3C traceparent): decode, queue
/// (waiting for a model instance), infer (the model) and encode.
/// </summary>
internal sealed class Telemetry : IDisposable
{
    public const string SourceName = "MaaS";

    public ActivitySource Source { get; } = new(SourceName);

    /// <summary>Starts a span for a stage that is running now; null when nobody listens.</summary>
    public Activity? Start(string name, string model, long version)
    {
        var activity = Source.StartActivity(name);
        activity?.SetTag("maas.model", model).SetTag("maas.version", version);
        return activity;
    }

    /// <summary>Records the queue and infer stages of a finished run, as spans placed where they happened.</summary>
    public void RecordRun(string model, long version, DateTimeOffset runStarted, RunTimings timings)
    {
        Completed("maas.queue", model, version, runStarted, timings.Queue);
        Completed("maas.infer", model, version, runStarted + timings.Queue, timings.ComputeInput + timings.ComputeInfer + timings.ComputeOutput);
    }

    private void Completed(string name, string model, long version, DateTimeOffset start, TimeSpan duration)
    {
        using var activity = Source.StartActivity(name, ActivityKind.Internal, Activity.Current?.Context ?? default, startTime: start);
        if (activity is null)
        {
            return;
        }

        activity.SetTag("maas.model", model).SetTag("maas.version", version);
        activity.SetEndTime((start + duration).UtcDateTime);
    }

    public void Dispose() => Source.Dispose();
}

internal static class TelemetryExtensions
{
    /// <summary>Traces with OpenTelemetry when MaaS:Telemetry:OtlpEndpoint is set: ASP.NET Core requests and our inference stages, exported over OTLP.</summary>
    public static WebApplicationBuilder AddMaaSTelemetry(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<TelemetryOptions>().BindConfiguration(TelemetryOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<Telemetry>();
        var endpoint = builder.Configuration[$"{TelemetryOptions.SectionName}:OtlpEndpoint"];
        if (!string.IsNullOrEmpty(endpoint))
        {
            builder.Services.AddOpenTelemetry().WithTracing(tracing => tracing
                .AddSource(Telemetry.SourceName)
                .AddAspNetCoreInstrumentation()
                .AddOtlpExporter(otlp => otlp.Endpoint = new Uri(endpoint)));
        }

        return builder;
    }
}
