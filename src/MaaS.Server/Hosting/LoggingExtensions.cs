using System.Globalization;
using Serilog;
using Serilog.Events;
using Serilog.Formatting.Compact;

namespace MaaS.Server.Hosting;

internal static class LoggingExtensions
{
    private const string TextTemplate = "[{Timestamp:HH:mm:ss} {Level:u3}] {SourceContext}: {Message:lj}{NewLine}{Exception}";

    /// <summary>Serilog to the console: text by default, compact JSON with MaaS:Logging:Json=true (containers). Levels from the Serilog section.</summary>
    public static WebApplicationBuilder AddMaaSLogging(this WebApplicationBuilder builder)
    {
        var json = builder.Configuration.GetValue("MaaS:Logging:Json", false);
        builder.Services.AddSerilog(
            (services, logger) =>
            {
                logger.ReadFrom.Configuration(builder.Configuration).Enrich.FromLogContext();
                if (json)
                {
                    logger.WriteTo.Console(new RenderedCompactJsonFormatter());
                }
                else
                {
                    logger.WriteTo.Console(outputTemplate: TextTemplate, formatProvider: System.Globalization.CultureInfo.InvariantCulture);
                }
            },
            preserveStaticLogger: true);
        return builder;
    }

    private static readonly object ServedVersionKey = new();

    /// <summary>Records the version that served the request, for the request log line (the path may name none).</summary>
    public static void SetServedVersion(this HttpContext context, long version) => context.Items[ServedVersionKey] = version;

    /// <summary>One line per request: method, path, model, version, status, duration, sizes, request id.</summary>
    public static WebApplication UseMaaSRequestLogging(this WebApplication app)
    {
        app.UseMiddleware<RequestIdMiddleware>();
        app.UseSerilogRequestLogging(options =>
        {
            // The host's Serilog logger: the static one stays silent (tests run several hosts in one process).
            options.Logger = app.Services.GetRequiredService<Serilog.ILogger>();
            options.MessageTemplate =
                "HTTP {RequestMethod} {RequestPath} model={ModelName} version={ModelVersion} responded {StatusCode} in {Elapsed:0.0} ms (in {BytesIn} B, out {BytesOut} B, id {RequestId})";
            options.EnrichDiagnosticContext = (diagnostics, context) =>
            {
                diagnostics.Set("ModelName", context.GetRouteValue("modelName") ?? "-");
                diagnostics.Set("ModelVersion", context.Items[ServedVersionKey] ?? context.GetRouteValue("modelVersion") ?? "-");
                diagnostics.Set("BytesIn", context.Request.ContentLength?.ToString(CultureInfo.InvariantCulture) ?? "-");
                diagnostics.Set("BytesOut", context.Response.ContentLength?.ToString(CultureInfo.InvariantCulture) ?? "-");
                diagnostics.Set("RequestId", context.TraceIdentifier);
            };
            options.GetLevel = RequestLevel;
        });
        return app;
    }

    // A 503 says "not now" (loading, draining, a full batch queue): expected in operation, and a readiness probe's
    // answer while models load is no news at all. Errors are failures the server owns.
    private static LogEventLevel RequestLevel(HttpContext context, double elapsedMs, Exception? exception) => context.Response.StatusCode switch
    {
        _ when exception is not null => LogEventLevel.Error,
        StatusCodes.Status503ServiceUnavailable when context.Request.Path.StartsWithSegments("/v2/health") => LogEventLevel.Information,
        StatusCodes.Status503ServiceUnavailable => LogEventLevel.Warning,
        >= 500 => LogEventLevel.Error,
        _ => LogEventLevel.Information,
    };
}
