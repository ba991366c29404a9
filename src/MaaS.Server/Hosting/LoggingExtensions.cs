using System.ComponentModel.DataAnnotations;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Serilog;
using Serilog.Core;
using Serilog.Events;
using Serilog.Formatting.Compact;

namespace MaaS.Server.Hosting;

internal static class LoggingExtensions
{
    /// <summary>
    /// Serilog to the console: text by default, compact JSON with MaaS:Logging:Json=true (containers). Levels from the
    /// Serilog section. Events are written by a background thread from a bounded buffer (MaaS:Logging:BufferSize): a
    /// request only queues its line, and a slow stdout drops lines (counted on /metrics) instead of stalling requests.
    /// Disposing the host drains the buffer, so the last lines reach stdout.
    /// </summary>
    public static WebApplicationBuilder AddMaaSLogging(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<LoggingOptions>().BindConfiguration(LoggingOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.TryAddSingleton<LogBufferMonitor>();
        builder.Services.AddSerilog(
            (services, logger) =>
            {
                var options = Configured(builder.Configuration);
                // No LogContext enricher: nothing in the server pushes properties there, and it cost ~1% of a tiny request's
                // CPU to look on every event (the Serilog section's "Enrich": ["FromLogContext"] turns it back on).
                logger.ReadFrom.Configuration(builder.Configuration);
                logger.WriteTo.Sink(Writer(services, options));
            },
            preserveStaticLogger: true);
        CachingLoggerFactory.Decorate(builder.Services);
        return builder;
    }

    // The console first, then sinks registered as services (as Serilog's ReadFrom.Services takes them), all behind the
    // one bounded buffer.
#pragma warning disable CA2000 // the sinks are the writer's, disposed with it when the host's logger is
    private static BackgroundLogWriter Writer(IServiceProvider services, LoggingOptions options)
    {
        ILogEventSink console;
        Action flush;
        if (Console.IsOutputRedirected)
        {
            var stdout = new StdoutLogSink(options.Json
                ? new RenderedCompactJsonFormatter()
                : new TextLogFormatter());
            console = stdout;
            flush = stdout.Flush;
        }
        else
        {
            // A terminal: Serilog's console sink, with its colours. The host's logger has filtered by level already.
            var configuration = new LoggerConfiguration().MinimumLevel.Verbose();
            console = options.Json
                ? configuration.WriteTo.Console(new RenderedCompactJsonFormatter()).CreateLogger()
                : configuration.WriteTo.Console(outputTemplate: TextLogFormatter.Template, formatProvider: CultureInfo.InvariantCulture).CreateLogger();
            flush = static () => { };
        }

        var writer = new BackgroundLogWriter([console, .. services.GetServices<ILogEventSink>()], flush, options.BufferSize);
        services.GetRequiredService<LogBufferMonitor>().Attach(writer);
        return writer;
    }
#pragma warning restore CA2000

    // The logger exists before options are validated at start; with a bad value it logs with the default, long enough
    // to report the OptionsValidationException that stops the process.
    private static LoggingOptions Configured(ConfigurationManager configuration)
    {
        var options = configuration.GetSection(LoggingOptions.SectionName).Get<LoggingOptions>() ?? new LoggingOptions();
        if (!Validator.TryValidateObject(options, new ValidationContext(options), validationResults: null, validateAllProperties: true))
        {
            options.BufferSize = LoggingOptions.DefaultBufferSize;
        }

        return options;
    }

    private static readonly object ServedVersionKey = new();

    private static readonly object ServedModelKey = new();

    /// <summary>Records the model the request ran, for the request log line when the path names none (gRPC).</summary>
    public static void SetServedModel(this HttpContext context, string modelName) => context.Items[ServedModelKey] = modelName;

    /// <summary>Records the version that served the request, for the request log line (the path may name none).</summary>
    public static void SetServedVersion(this HttpContext context, long version) => context.Items[ServedVersionKey] = version;

    /// <summary>The model the request ran, for the request log line: the route's, else the one a gRPC call recorded.</summary>
    internal static object? ServedModel(HttpContext context) => context.GetRouteValue("modelName") ?? context.Items[ServedModelKey];

    /// <summary>The version that served the request, else the route's.</summary>
    internal static object? ServedVersion(HttpContext context) => context.Items[ServedVersionKey] ?? context.GetRouteValue("modelVersion");

    /// <summary>
    /// One line per request: method, path, model, version, status (and a gRPC call's grpc-status), duration, sizes,
    /// request id; written by <see cref="RequestLogMiddleware"/> through the host's Serilog logger (the static one stays
    /// silent: tests run several hosts in one process).
    /// </summary>
    public static WebApplication UseMaaSRequestLogging(this WebApplication app)
    {
        app.UseMiddleware<RequestIdMiddleware>();
        app.UseMiddleware<RequestLogMiddleware>(app.Services.GetRequiredService<Serilog.ILogger>());
        return app;
    }

    // A 503 says "not now" (loading, draining, a full batch queue): expected in operation, and a readiness probe's
    // answer while models load is no news at all. Errors are failures the server owns.
    internal static LogEventLevel RequestLevel(HttpContext context, Exception? exception) => Endpoints.Grpc.GrpcStatusCodes.EffectiveStatus(context) switch
    {
        _ when exception is not null => LogEventLevel.Error,
        StatusCodes.Status503ServiceUnavailable when context.Request.Path.StartsWithSegments("/v2/health") => LogEventLevel.Information,
        StatusCodes.Status503ServiceUnavailable => LogEventLevel.Warning,
        >= 500 => LogEventLevel.Error,
        _ => LogEventLevel.Information,
    };
}
