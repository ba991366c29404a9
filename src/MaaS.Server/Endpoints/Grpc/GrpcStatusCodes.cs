using Grpc.Core;
using Microsoft.AspNetCore.Http.Features;

namespace MaaS.Server.Endpoints.Grpc;

/// <summary>
/// The HTTP status of a failure as a gRPC status code, so that both protocols share one error table
/// (<see cref="Hosting.ErrorHandling.ToStatusCode"/>) and the same messages.
/// </summary>
internal static class GrpcStatusCodes
{
    public const string ContentType = "application/grpc";

    public static StatusCode FromHttp(int statusCode) => statusCode switch
    {
        StatusCodes.Status400BadRequest => StatusCode.InvalidArgument,
        StatusCodes.Status401Unauthorized => StatusCode.Unauthenticated,
        StatusCodes.Status403Forbidden => StatusCode.PermissionDenied,
        StatusCodes.Status404NotFound => StatusCode.NotFound,
        StatusCodes.Status408RequestTimeout => StatusCode.DeadlineExceeded,
        // 422 (nothing for an optimisation to change): the model, not the request's form, is what does not fit.
        StatusCodes.Status409Conflict or StatusCodes.Status422UnprocessableEntity => StatusCode.FailedPrecondition,
        StatusCodes.Status413PayloadTooLarge or StatusCodes.Status507InsufficientStorage => StatusCode.ResourceExhausted,
        StatusCodes.Status503ServiceUnavailable => StatusCode.Unavailable,
        _ => StatusCode.Internal,
    };

    /// <summary>
    /// How a gRPC call ended (its grpc-status: in the trailers, or in the headers of a trailers-only answer); null for a
    /// request that is not a gRPC call or has no status yet. HTTP says 200 for every gRPC call, failed or not.
    /// </summary>
    public static StatusCode? Outcome(HttpContext context)
    {
        if (!IsGrpc(context))
        {
            return null;
        }

        var trailers = context.Features.Get<IHttpResponseTrailersFeature>()?.Trailers;
        var value = trailers is not null && trailers.TryGetValue("grpc-status", out var trailer) ? trailer : context.Response.Headers["grpc-status"];
        return int.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var code)
            ? (StatusCode)code
            : null;
    }

    /// <summary>
    /// The status the request log and the request metrics record: a gRPC call's outcome as the HTTP status of the same
    /// failure (the inverse of <see cref="FromHttp(int)"/>; a cancelled call 499, as proxies log a client that left), any
    /// other request's own status.
    /// </summary>
    public static int EffectiveStatus(HttpContext context) => Outcome(context) switch
    {
        null or StatusCode.OK => context.Response.StatusCode,
        StatusCode.InvalidArgument or StatusCode.OutOfRange => StatusCodes.Status400BadRequest,
        StatusCode.Unauthenticated => StatusCodes.Status401Unauthorized,
        StatusCode.PermissionDenied => StatusCodes.Status403Forbidden,
        StatusCode.NotFound => StatusCodes.Status404NotFound,
        StatusCode.DeadlineExceeded => StatusCodes.Status408RequestTimeout,
        StatusCode.FailedPrecondition or StatusCode.AlreadyExists or StatusCode.Aborted => StatusCodes.Status409Conflict,
        StatusCode.ResourceExhausted => StatusCodes.Status413PayloadTooLarge,
        StatusCode.Cancelled => StatusCodes.Status499ClientClosedRequest,
        StatusCode.Unimplemented => StatusCodes.Status501NotImplemented,
        StatusCode.Unavailable => StatusCodes.Status503ServiceUnavailable,
        _ => StatusCodes.Status500InternalServerError,
    };

    /// <summary>True for a gRPC call (its content type is application/grpc or application/grpc+proto).</summary>
    public static bool IsGrpc(HttpContext context) =>
        context.Request.ContentType?.StartsWith(ContentType, StringComparison.OrdinalIgnoreCase) == true;

    /// <summary>
    /// Answers a gRPC call that never reached its method (no key, wrong role, server at its limit) with a trailers-only
    /// response: HTTP 200 with grpc-status and grpc-message in the headers, as the gRPC protocol wants.
    /// </summary>
    public static Task WriteAsync(HttpContext context, int httpStatusCode, string message) =>
        WriteAsync(context, FromHttp(httpStatusCode), message);

    public static Task WriteAsync(HttpContext context, StatusCode statusCode, string message)
    {
        var response = context.Response;
        response.Clear();
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = ContentType;
        response.Headers["grpc-status"] = ((int)statusCode).ToString(System.Globalization.CultureInfo.InvariantCulture);
        // grpc-message is percent-encoded; clients decode any %XX, so escaping more than needed is harmless.
        response.Headers["grpc-message"] = Uri.EscapeDataString(message);
        return response.CompleteAsync();
    }
}
