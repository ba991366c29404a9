using MaaS.Core;
using MaaS.Core.Sessions;

namespace MaaS.Server.Hosting;

/// <summary>Catches what a request throws and answers with the mapped status and an <c>{"error"}</c> body.</summary>
internal sealed partial class ErrorHandlingMiddleware(RequestDelegate next, InferenceLimits limits, ILogger<ErrorHandlingMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        try
        {
            await next(context);
            if (ErrorHandling.IsEmptyError(context.Response))
            {
                await ErrorHandling.WriteEmptyErrorAsync(context);
            }
        }
        catch (ServingException ex) when (ex.InnerException is TimeoutException && !context.Response.HasStarted)
        {
            // A wait that timed out (every instance of the model busy, or a reload still running): a retry later may
            // get through, so say when.
            if (ex.InnerException is SessionWaitTimeoutException)
            {
                limits.CountSessionWaitTimeout();
            }

            await AnswerAsync(context, ErrorHandling.ToStatusCode(ex.Kind), ex.Message, limits.RetryAfterSeconds);
        }
        catch (ServingException ex) when (!context.Response.HasStarted)
        {
            await AnswerAsync(context, ErrorHandling.ToStatusCode(ex.Kind), ex.Message);
        }
        catch (BadHttpRequestException ex) when (!context.Response.HasStarted && !context.RequestAborted.IsCancellationRequested)
        {
            // Kestrel's own limits: body too large (413), client too slow (408), malformed framing (400).
            await AnswerAsync(context, ex.StatusCode, ex.Message);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException && context.RequestAborted.IsCancellationRequested)
        {
            // The client went away: nothing to answer, and not a server error. A body it cut short fails to read as
            // Kestrel's 400 (connection closed) or a ConnectionResetException (reset), both IOExceptions. The status
            // nobody will receive says so in the request log and the metrics (499, as proxies log a client that left)
            // instead of a 200 never sent, a 400 or a 500.
            if (!context.Response.HasStarted)
            {
                context.Response.StatusCode = StatusCodes.Status499ClientClosedRequest;
            }

            Log.ClientAborted(logger, context.Request.Path);
        }
#pragma warning disable CA1031 // request boundary: a bug must cost one request a 500, never the process; logged once here
        catch (Exception ex) when (!context.Response.HasStarted)
        {
            Log.Unhandled(logger, context.Request.Method, context.Request.Path, ex);
            await ErrorHandling.WriteAsync(context, StatusCodes.Status500InternalServerError, "internal error");
        }
#pragma warning restore CA1031
    }

    private async Task AnswerAsync(HttpContext context, int statusCode, string message, int retryAfterSeconds = 0)
    {
        try
        {
            await ErrorHandling.WriteAsync(context, statusCode, message, retryAfterSeconds);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            Log.ClientAborted(logger, context.Request.Path);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 2001, Level = LogLevel.Debug, Message = "Client aborted {Path}")]
        public static partial void ClientAborted(ILogger logger, PathString path);

        [LoggerMessage(EventId = 2002, Level = LogLevel.Error, Message = "Unhandled error on {Method} {Path}")]
        public static partial void Unhandled(ILogger logger, string method, PathString path, Exception exception);
    }
}
