using System.Diagnostics;
using System.Globalization;
using Microsoft.AspNetCore.Http.Features;
using Serilog.Events;
using Serilog.Parsing;

namespace MaaS.Server.Hosting;

/// <summary>
/// One log event per request with the fields of <see cref="LoggingExtensions.UseMaaSRequestLogging"/>: built from a
/// template parsed once and a fixed set of properties, and only when the level is on. It replaces Serilog's request
/// logging middleware, whose diagnostic-context collector and per-property binding were about a sixth of a tiny
/// request's allocated bytes (docs/performance.md, "Profile of the request path").
/// </summary>
internal sealed class RequestLogMiddleware(RequestDelegate next, Serilog.ILogger logger, TimeProvider time)
{
    public const string TemplateText =
        "HTTP {RequestMethod} {RequestPath} model={ModelName} version={ModelVersion} responded {StatusCode}{GrpcStatus:l} in {Elapsed:0.0} ms (in {BytesIn} B, out {BytesOut} B, id {RequestId})";

    private const string TraceParentHeader = "traceparent";

    private static readonly MessageTemplate Template = new MessageTemplateParser().Parse(TemplateText);
    private static readonly ScalarValue None = new("-");
    private static readonly ScalarValue Empty = new(string.Empty);

    // Immutable values shared by every event: one per HTTP status code.
    private static readonly ScalarValue[] Statuses = Enumerable.Range(100, 500).Select(code => new ScalarValue(code)).ToArray();

    // The line's ten fields, and room for the enrichers' properties without growing.
    private const int PropertyCapacity = 12;

    // SourceContext comes from the contextual logger's fixed property.
    private readonly Serilog.ILogger _logger = logger.ForContext<RequestLogMiddleware>();

    public async Task InvokeAsync(HttpContext context)
    {
        var started = time.GetTimestamp();
        try
        {
            await next(context);
        }
        catch (Exception exception) when (Write(context, started, exception))
        {
            // Write returns false: the exception goes on to the host with its line already queued.
        }

        Write(context, started, exception: null);
    }

    private bool Write(HttpContext context, long started, Exception? exception)
    {
        var level = LoggingExtensions.RequestLevel(context, exception);
        if (!_logger.IsEnabled(level))
        {
            return false;
        }

        var elapsed = time.GetElapsedTime(started).TotalMilliseconds;
        var status = exception is null ? context.Response.StatusCode : StatusCodes.Status500InternalServerError;
        var request = context.Request;
        var path = context.Features.Get<IHttpRequestFeature>()?.Path is { Length: > 0 } raw ? raw : request.Path.ToString();
        var (traceId, spanId) = TraceOf(context);
        // The event's property dictionary is built here, sized for the line's fields and the enrichers' few (the source
        // context, a configured enricher or two), and handed to the event as it is: LogEvent's public constructors copy
        // LogEventProperty objects into a dictionary that grows three times on the way, which was a fifth of a tiny
        // request's allocated bytes. UnstableAssembleFromParts is Serilog's entry point for exactly that (its name warns
        // that it may change with Serilog's version, which Directory.Packages.props pins).
        var properties = new Dictionary<string, LogEventPropertyValue>(PropertyCapacity)
        {
            ["RequestMethod"] = new ScalarValue(request.Method),
            ["RequestPath"] = new ScalarValue(path),
            ["ModelName"] = Value(LoggingExtensions.ServedModel(context)),
            ["ModelVersion"] = Value(LoggingExtensions.ServedVersion(context)),
            ["StatusCode"] = Status(status),
            ["GrpcStatus"] = Endpoints.Grpc.GrpcStatusCodes.Outcome(context) is { } outcome ? new ScalarValue($" (gRPC {outcome})") : Empty,
            ["Elapsed"] = new ScalarValue(elapsed),
            ["BytesIn"] = Size(request.ContentLength),
            ["BytesOut"] = Size(context.Response.ContentLength),
            ["RequestId"] = new ScalarValue(context.TraceIdentifier),
        };
        _logger.Write(LogEvent.UnstableAssembleFromParts(
            time.GetLocalNow(), level, exception, Template, properties, traceId, spanId));
        return false;
    }

    // The request's activity exists while tracing is on. Without it, the caller's W3C trace context (its trace and the
    // span that made this request), when it sent one, still ties the line to the caller's trace.
    private static (ActivityTraceId TraceId, ActivitySpanId SpanId) TraceOf(HttpContext context)
    {
        if (Activity.Current is { } activity)
        {
            return (activity.TraceId, activity.SpanId);
        }

        return context.Request.Headers.TryGetValue(TraceParentHeader, out var header)
            && ActivityContext.TryParse(header.ToString(), traceState: null, out var caller)
            ? (caller.TraceId, caller.SpanId)
            : default;
    }

    private static ScalarValue Status(int status) => status is >= 100 and < 600 ? Statuses[status - 100] : new ScalarValue(status);

    private static ScalarValue Value(object? value) => value is null ? None : new ScalarValue(value);

    private static ScalarValue Size(long? bytes) => bytes is { } value ? new ScalarValue(value.ToString(CultureInfo.InvariantCulture)) : None;
}
