using System.Collections.Concurrent;
using System.Diagnostics;

namespace MaaS.Server.Hosting.Metrics;

/// <summary>
/// HTTP requests by method, route template and status, with their total time. The route is the endpoint's template
/// (e.g. <c>/v2/models/{modelName}/infer</c>), never the raw path, so clients cannot make up series.
/// </summary>
internal sealed class HttpRequestMetrics
{
    private readonly ConcurrentDictionary<(string Method, string Route, int Status), DurationStat> _requests = new();

    public IEnumerable<KeyValuePair<(string Method, string Route, int Status), DurationStat>> Requests => _requests;

    public void Record(string method, string route, int status, TimeSpan duration) =>
        _requests.GetOrAdd((method, route, status), _ => new DurationStat()).Add(duration);
}

/// <summary>Counts every request into <see cref="HttpRequestMetrics"/>; a gRPC call under the HTTP status of its outcome.</summary>
internal sealed class HttpRequestMetricsMiddleware(RequestDelegate next, HttpRequestMetrics metrics)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            await next(context);
        }
        finally
        {
            var route = (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? "(unmatched)";
            var method = HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsPost(context.Request.Method)
                || HttpMethods.IsPut(context.Request.Method) || HttpMethods.IsDelete(context.Request.Method)
                ? context.Request.Method
                : "OTHER";
            metrics.Record(method, route, Endpoints.Grpc.GrpcStatusCodes.EffectiveStatus(context), Stopwatch.GetElapsedTime(started));
        }
    }
}
