using System.Text.Json;
using MaaS.Server.Hosting;

namespace MaaS.Server.Endpoints.OpenAI;

/// <summary>
/// The one documented exception to the <c>{"error": "…"}</c> rule: routes of OpenAI's API answer errors in OpenAI's
/// shape, <c>{"error": {"message", "type", "param", "code"}}</c>, so OpenAI clients show the message. Every error
/// writer (handlers, auth, limits, status pages) goes through <see cref="ErrorHandling.WriteAsync"/>, which asks here.
/// </summary>
internal static class OpenAIError
{
    public const string PathPrefix = "/v1/embeddings";

    public static bool Applies(HttpContext context) => context.Request.Path.StartsWithSegments(PathPrefix, StringComparison.Ordinal);

    public static async Task WriteAsync(HttpContext context, int statusCode, string message)
    {
        context.Response.ContentType = "application/json";
        await using var json = new Utf8JsonWriter(context.Response.BodyWriter, MaaSJsonContext.WriterOptions);
        json.WriteStartObject();
        json.WriteStartObject("error");
        json.WriteString("message", message);
        json.WriteString("type", statusCode switch
        {
            StatusCodes.Status401Unauthorized => "authentication_error",
            StatusCodes.Status403Forbidden => "permission_error",
            >= 500 => "server_error",
            _ => "invalid_request_error",
        });
        json.WriteNull("param");
        json.WriteString("code", statusCode switch
        {
            StatusCodes.Status401Unauthorized => "invalid_api_key",
            StatusCodes.Status403Forbidden => "insufficient_permissions",
            StatusCodes.Status404NotFound => "model_not_found",
            StatusCodes.Status413PayloadTooLarge => "request_too_large",
            StatusCodes.Status503ServiceUnavailable => "overloaded",
            >= 500 => "server_error",
            _ => "invalid_request",
        });
        json.WriteEndObject();
        json.WriteEndObject();
        await json.FlushAsync(context.RequestAborted);
    }
}
