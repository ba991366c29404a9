using Grpc.Core;

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
        StatusCodes.Status409Conflict => StatusCode.FailedPrecondition,
        StatusCodes.Status413PayloadTooLarge or StatusCodes.Status507InsufficientStorage => StatusCode.ResourceExhausted,
        StatusCodes.Status503ServiceUnavailable => StatusCode.Unavailable,
        _ => StatusCode.Internal,
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
