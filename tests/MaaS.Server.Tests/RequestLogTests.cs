using System.Globalization;
using System.Net;
using MaaS.Server.Hosting;
using MaaS.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Serilog.Core;
using Serilog.Events;

namespace MaaS.Server.Tests;

/// <summary>The request log line and the bounded buffer that writes log events off the request thread.</summary>
public sealed class RequestLogTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task LoggerFactory_GivesOneLoggerPerCategory_ThatStillWritesThroughTheSinks()
    {
        // ASP.NET Core asks for a logger on every request (each authentication handler takes one): a new logger each
        // time was measured at ~5% of a request's allocations.
        using var sink = new CapturingLogSink(e => e.MessageTemplate.Text == "one logger per category {Probe}");
        using var repository = new TempRepository().CopyModel(RepositoryPaths.Models, "mlp");
        using var app = new ConfiguredApplication(repository.Path, services => services.AddSingleton<ILogEventSink>(sink));
        using var client = await app.CreateReadyClientAsync();
        var factory = app.Services.GetRequiredService<Microsoft.Extensions.Logging.ILoggerFactory>();

        var first = factory.CreateLogger("MaaS.Tests.Category");
        var second = factory.CreateLogger("MaaS.Tests.Category");
        var other = factory.CreateLogger("MaaS.Tests.Other");
        second.Log(Microsoft.Extensions.Logging.LogLevel.Warning, default, new Dictionary<string, object> { ["Probe"] = 42, ["{OriginalFormat}"] = "one logger per category {Probe}" }, null, (_, _) => "probe");
        var logged = await sink.Matched.WaitAsync(Patience);

        second.Should().BeSameAs(first);
        other.Should().NotBeSameAs(first);
        logged.Properties["Probe"].ToString().Should().Be("42");
        logged.Properties["SourceContext"].ToString().Should().Be("\"MaaS.Tests.Category\"");
    }

    [Fact]
    public async Task Infer_LogsOneLineWithMethodPathModelVersionStatusDurationSizesAndId()
    {
        using var sink = new CapturingLogSink(e => CapturingLogSink.IsRequestLine(e, "log-fields-1"));
        using var repository = new TempRepository().CopyModel(RepositoryPaths.Models, "mlp");
        using var app = new ConfiguredApplication(repository.Path, services => services.AddSingleton<ILogEventSink>(sink));
        using var client = await app.CreateReadyClientAsync();
        var body = V2Requests.JsonBody(ReferenceCase.Bundled("mlp", 1));
        using var request = new HttpRequestMessage(HttpMethod.Post, V2Requests.InferUri("mlp")) { Content = V2Requests.Json(body) };
        request.Headers.Add("X-Request-Id", "log-fields-1");

        using var response = await client.SendAsync(request);
        var line = await sink.Matched.WaitAsync(Patience);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        Scalar(line, "RequestMethod").Should().Be("POST");
        Scalar(line, "RequestPath").Should().Be("/v2/models/mlp/infer");
        Scalar(line, "ModelName").Should().Be("mlp");
        Scalar(line, "ModelVersion").Should().Be(1L);
        Scalar(line, "StatusCode").Should().Be(200);
        Scalar(line, "Elapsed").Should().BeOfType<double>().Which.Should().BePositive();
        Scalar(line, "BytesIn").Should().Be(request.Content.Headers.ContentLength!.Value.ToString(CultureInfo.InvariantCulture));
        Scalar(line, "BytesOut").Should().BeOfType<string>().Which.Should().MatchRegex("^(-|[0-9]+)$", "a JSON answer is written without Content-Length");
        line.Level.Should().Be(LogEventLevel.Information);
        line.RenderMessage(CultureInfo.InvariantCulture).Should().StartWith("HTTP \"POST\" \"/v2/models/mlp/infer\" model=\"mlp\" version=1 responded 200 in ");
    }

    [Fact]
    public async Task Infer_WithTraceparentAndTracingOff_LogsTheCallersTraceId()
    {
        const string traceId = "0af7651916cd43dd8448eb211c80319c";
        using var sink = new CapturingLogSink(e => CapturingLogSink.IsRequestLine(e, "log-trace-1"));
        using var repository = new TempRepository().CopyModel(RepositoryPaths.Models, "mlp");
        using var app = new ConfiguredApplication(repository.Path, services => services.AddSingleton<ILogEventSink>(sink));
        using var client = await app.CreateReadyClientAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, V2Requests.InferUri("mlp"))
        {
            Content = V2Requests.Json(V2Requests.JsonBody(ReferenceCase.Bundled("mlp", 1))),
        };
        request.Headers.Add("X-Request-Id", "log-trace-1");
        request.Headers.Add("traceparent", $"00-{traceId}-b7ad6b7169203331-01");

        using var response = await client.SendAsync(request);
        var line = await sink.Matched.WaitAsync(Patience);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        // Another test's tracer may listen process-wide and start a span of its own: the trace stays the caller's.
        line.TraceId.Should().NotBeNull();
        line.TraceId!.Value.ToHexString().Should().Be(traceId);
    }

    [Fact]
    public async Task HostingLogger_OpensNoPerRequestScope_AndStillWritesWhatHostingLogs()
    {
        using var sink = new CapturingLogSink(e => e.MessageTemplate.Text == "hosting says {Probe}");
        using var repository = new TempRepository().CopyModel(RepositoryPaths.Models, "mlp");
        using var app = new ConfiguredApplication(repository.Path, services => services.AddSingleton<ILogEventSink>(sink));
        using var client = await app.CreateReadyClientAsync();
        var logger = app.Services.GetRequiredService<Microsoft.Extensions.Logging.ILoggerFactory>().CreateLogger(HostingDiagnosticsLogger.Category);

        // Hosting starts an activity and a scope for each request only when its logger is enabled at Critical.
        logger.IsEnabled(Microsoft.Extensions.Logging.LogLevel.Critical).Should().BeFalse();
        logger.BeginScope("request").Should().BeNull();
        // What hosting logs without asking (an application startup exception) is still written.
        var state = new Dictionary<string, object> { ["Probe"] = 7, ["{OriginalFormat}"] = "hosting says {Probe}" };
        logger.Log(Microsoft.Extensions.Logging.LogLevel.Critical, default, state, null, (_, _) => "probe");
        var logged = await sink.Matched.WaitAsync(Patience);

        logged.Level.Should().Be(LogEventLevel.Fatal);
        logged.Properties["SourceContext"].ToString().Should().Be($"\"{HostingDiagnosticsLogger.Category}\"");
    }

    [Fact]
    public async Task StalledLogOutput_DoesNotStallRequests_AndStoppingTheServerWritesTheLastLines()
    {
        using var sink = new CapturingLogSink(e => CapturingLogSink.IsRequestLine(e, "log-last-line"), gateOpen: false);
        using var repository = new TempRepository().CopyModel(RepositoryPaths.Models, "mlp");
        var app = new ConfiguredApplication(repository.Path, services => services.AddSingleton<ILogEventSink>(sink));
        await using (app)
        {
            using var client = await app.CreateReadyClientAsync();
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/v2/models/mlp", UriKind.Relative));
            request.Headers.Add("X-Request-Id", "log-last-line");

            using var response = await client.SendAsync(request).WaitAsync(Patience);

            response.StatusCode.Should().Be(HttpStatusCode.OK, "the request only queues its log line");
            sink.Matched.IsCompleted.Should().BeFalse("the log output is stalled");
            sink.OpenGate();
        }

        // The writer disposes its sinks after its last pass over the buffer.
        await sink.Disposed.WaitAsync(Patience);
        sink.Matched.IsCompletedSuccessfully.Should().BeTrue("stopping the server drains the log buffer");
    }

    [Fact]
    public async Task FullLogBuffer_DropsNewEventsAndCountsThemOnMetrics()
    {
        using var sink = new CapturingLogSink(_ => false, gateOpen: false);
        using var repository = new TempRepository().CopyModel(RepositoryPaths.Models, "mlp");
        using var app = new ConfiguredApplication(
            repository.Path, services => services.AddSingleton<ILogEventSink>(sink), new Dictionary<string, string?> { ["MaaS:Logging:BufferSize"] = "100" });
        try
        {
            using var client = await app.CreateReadyClientAsync();
            for (var i = 0; i < 150; i++)
            {
                using var live = await client.GetAsync(new Uri("/v2/health/live", UriKind.Relative)).WaitAsync(Patience);
                live.StatusCode.Should().Be(HttpStatusCode.OK);
            }

            var metrics = await client.GetStringAsync(new Uri("/metrics", UriKind.Relative));

            Metric(metrics, "maas_log_events_queued").Should().Be(100, "the buffer is full");
            Metric(metrics, "maas_log_events_dropped_total").Should().BeGreaterThanOrEqualTo(150 - 100, "150 request lines met a buffer of 100");
        }
        finally
        {
            sink.OpenGate();
        }
    }

    [Theory]
    [InlineData(99)]
    [InlineData(1_000_001)]
    public void Validation_BufferSizeOutOfRange_FailsNamingIt(int bufferSize)
    {
        var result = new DataAnnotationValidateOptions<LoggingOptions>(null).Validate(null, new LoggingOptions { BufferSize = bufferSize });

        result.Failed.Should().BeTrue();
        result.FailureMessage.Should().Contain(nameof(LoggingOptions.BufferSize));
    }

    [Fact]
    public void Validation_Defaults_Pass() =>
        new DataAnnotationValidateOptions<LoggingOptions>(null).Validate(null, new LoggingOptions()).Succeeded.Should().BeTrue();

    [Fact]
    public async Task Startup_BufferSizeOutOfRange_FailsAndLogsTheSetting()
    {
        using var sink = new CapturingLogSink(e => e.Exception is OptionsValidationException);
        using var repository = new TempRepository().CopyModel(RepositoryPaths.Models, "mlp");
        await using var app = new ConfiguredApplication(
            repository.Path, services => services.AddSingleton<ILogEventSink>(sink), new Dictionary<string, string?> { ["MaaS:Logging:BufferSize"] = "0" });

        var start = () => app.CreateClient();

        start.Should().Throw<Exception>();
        var failure = await sink.Matched.WaitAsync(Patience);
        failure.Exception!.Message.Should().Contain(nameof(LoggingOptions.BufferSize), "the server still logs why it stops");
    }

    private static object? Scalar(LogEvent logEvent, string name) =>
        logEvent.Properties.Should().ContainKey(name).WhoseValue.Should().BeOfType<ScalarValue>().Which.Value;

    private static double Metric(string metrics, string name) =>
        double.Parse(metrics.Split('\n').Single(line => line.StartsWith(name + " ", StringComparison.Ordinal))[(name.Length + 1)..], CultureInfo.InvariantCulture);
}
