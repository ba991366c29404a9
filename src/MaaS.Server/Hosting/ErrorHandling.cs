using MaaS.Core;
using Microsoft.AspNetCore.WebUtilities;

namespace MaaS.Server.Hosting;

/// <summary>The one place that turns failures into status codes and <c>{"error"}</c> bodies (DESIGN.md §5).</summary>
internal static class ErrorHandling
{
    public static int ToStatusCode(FailureKind kind) => kind switch
    {
        FailureKind.ModelNotFound or FailureKind.VersionNotFound => StatusCodes.Status404NotFound,
        FailureKind.InvalidInput => StatusCodes.Status400BadRequest,
        FailureKind.NotReady => StatusCodes.Status503ServiceUnavailable,
        FailureKind.PayloadTooLarge => StatusCodes.Status413PayloadTooLarge,
        FailureKind.Conflict => StatusCodes.Status409Conflict,
        FailureKind.InsufficientStorage => StatusCodes.Status507InsufficientStorage,
        FailureKind.Unprocessable => StatusCodes.Status422UnprocessableEntity,
        _ => StatusCodes.Status500InternalServerError,
    };

    public static IResult Error(int statusCode, string message) =>
        TypedResults.Json(new ErrorResponse(message), MaaSJsonContext.Error, statusCode: statusCode);

    public static WebApplication UseMaaSErrorHandling(this WebApplication app)
    {
        app.UseMiddleware<ErrorHandlingMiddleware>();
        return app;
    }

    /// <summary>
    /// Routing leaves 404 (no route) and 405 (wrong method) without a body: they get the error shape too, as any other
    /// error status that arrives with no body. A gRPC call to no route is a method this server does not have (or gRPC
    /// is off): UNIMPLEMENTED, as gRPC servers answer. (ASP.NET Core's status code pages did this before, at the cost of
    /// a middleware and a feature on every request.)
    /// </summary>
    public static Task WriteEmptyErrorAsync(HttpContext context) => Endpoints.Grpc.GrpcStatusCodes.IsGrpc(context)
        ? Endpoints.Grpc.GrpcStatusCodes.WriteAsync(
            context, Grpc.Core.StatusCode.Unimplemented, $"no such gRPC method here: {context.Request.Path} (is MaaS:Grpc:Port 0?)")
        : WriteAsync(context, context.Response.StatusCode, ReasonPhrases.GetReasonPhrase(context.Response.StatusCode));

    /// <summary>An error status with nothing written and nothing said about a body.</summary>
    public static bool IsEmptyError(HttpResponse response) =>
        response is { HasStarted: false, StatusCode: >= 400 and <= 599, ContentLength: null } && string.IsNullOrEmpty(response.ContentType);

    /// <summary>Writes the error body; <paramref name="retryAfterSeconds"/> above 0 adds Retry-After (an overloaded server's 503).</summary>
    public static Task WriteAsync(HttpContext context, int statusCode, string message, int retryAfterSeconds = 0)
    {
        if (Endpoints.Grpc.GrpcStatusCodes.IsGrpc(context))
        {
            // A gRPC call refused before its method ran (auth, limits): the same message as a gRPC status.
            return Endpoints.Grpc.GrpcStatusCodes.WriteAsync(context, statusCode, message);
        }

        context.Response.Clear();
        context.Response.StatusCode = statusCode;
        if (retryAfterSeconds > 0)
        {
            context.Response.Headers.RetryAfter = retryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        return Endpoints.OpenAI.OpenAIError.Applies(context)
            ? Endpoints.OpenAI.OpenAIError.WriteAsync(context, statusCode, message)
            : context.Response.WriteAsJsonAsync(new ErrorResponse(message), MaaSJsonContext.Error, contentType: null, context.RequestAborted);
    }
}
