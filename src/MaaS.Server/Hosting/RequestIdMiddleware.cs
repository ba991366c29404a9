namespace MaaS.Server.Hosting;

/// <summary>
/// Honours a caller's <c>X-Request-Id</c> (printable ASCII, at most 128 characters; otherwise the server's own id is
/// used) as the request's id in logs, and echoes the id back in the response. A W3C <c>traceparent</c> is picked up by
/// ASP.NET Core's activity when tracing is on, and by the request log line's trace id either way.
/// </summary>
internal sealed class RequestIdMiddleware(RequestDelegate next)
{
    public const string Header = "X-Request-Id";

    public Task InvokeAsync(HttpContext context)
    {
        var given = context.Request.Headers[Header].ToString();
        if (given.Length is > 0 and <= 128 && given.All(c => c is >= '!' and <= '~'))
        {
            context.TraceIdentifier = given;
        }

        context.Response.Headers[Header] = context.TraceIdentifier;
        return next(context);
    }
}
