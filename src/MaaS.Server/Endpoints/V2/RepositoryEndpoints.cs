using System.Buffers.Text;
using System.Globalization;
using System.Text;
using System.Text.Json;
using MaaS.Core;
using MaaS.Core.Registry;
using MaaS.Server.Endpoints.Management;
using MaaS.Server.Hosting;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace MaaS.Server.Endpoints.V2;

/// <summary>Triton's model repository extension: load (or reload, or create from the request) and unload.</summary>
internal static class RepositoryEndpoints
{
    public static RouteGroupBuilder MapRepositoryControl(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/v2/repository/models/{modelName}").WithTags("Repository (V2)").RequireAuthorization(AuthPolicies.Admin);
        group.MapPost("/load", LoadAsync)
            .WithSummary("Load or reload the model from the repository; with parameters \"config\" (JSON text) and \"file:<version>/model.onnx\" (base64) it is written from the request first.")
            .Produces<ErrorResponse>(StatusCodes.Status400BadRequest)
            .Produces<ErrorResponse>(StatusCodes.Status404NotFound);
        group.MapPost("/unload", UnloadAsync)
            .WithSummary("Stop serving the model (requests in flight finish) until it is loaded again.")
            .Produces<ErrorResponse>(StatusCodes.Status404NotFound);
        return group;
    }

    private static async Task<Ok> LoadAsync(
        HttpContext context, string modelName, ModelManager manager, IOptions<LimitsOptions> limits, CancellationToken cancellationToken)
    {
        var maxModelBytes = limits.Value.MaxModelBytes;
        // base64 makes files a third larger; the JSON around them is small.
        var bodyLimit = Math.Max(limits.Value.MaxRequestBodyBytes, (maxModelBytes / 3 * 4) + (1 << 20));
        ModelManagementEndpoints.RaiseBodyLimit(context, bodyLimit);
        var body = await ModelManagementEndpoints.ReadSmallAsync(context.Request.Body, (int)Math.Min(bodyLimit, Array.MaxLength), "load request", cancellationToken);
        var (config, files) = ParseLoadParameters(body, maxModelBytes);
        await manager.LoadAsync(modelName, config, files, maxModelBytes, cancellationToken);
        return TypedResults.Ok();
    }

    private static async Task<Ok> UnloadAsync(HttpRequest request, string modelName, ModelManager manager, CancellationToken cancellationToken)
    {
        // The body may carry {"parameters": {"unload_dependents": bool}}; there are no dependents to unload here.
        await ModelManagementEndpoints.ReadSmallAsync(request.Body, 64 * 1024, "unload request", cancellationToken);
        await manager.UnloadAsync(modelName, cancellationToken);
        return TypedResults.Ok();
    }

    private static (byte[]? Config, Dictionary<long, byte[]> Files) ParseLoadParameters(byte[] body, long maxModelBytes)
    {
        var files = new Dictionary<long, byte[]>();
        if (body.Length == 0)
        {
            return (null, files);
        }

        try
        {
            using var document = JsonDocument.Parse(body);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw ServingException.Invalid("load request must be a JSON object such as {\"parameters\": {...}}");
            }

            if (!document.RootElement.TryGetProperty("parameters", out var parameters))
            {
                return (null, files);
            }

            if (parameters.ValueKind != JsonValueKind.Object)
            {
                throw ServingException.Invalid("\"parameters\" must be an object");
            }

            byte[]? config = null;
            foreach (var parameter in parameters.EnumerateObject())
            {
                if (parameter.Value.ValueKind != JsonValueKind.String)
                {
                    throw ServingException.Invalid($"load parameter '{parameter.Name}' must be a string");
                }

                if (parameter.Name == "config")
                {
                    config = Encoding.UTF8.GetBytes(parameter.Value.GetString()!);
                }
                else if (parameter.Name.StartsWith("file:", StringComparison.Ordinal))
                {
                    var (version, bytes) = ParseFile(parameter.Name, parameter.Value, maxModelBytes);
                    files[version] = bytes;
                }
                else
                {
                    throw ServingException.Invalid($"unsupported load parameter '{parameter.Name}'; expected \"config\" and \"file:<version>/model.onnx\"");
                }
            }

            return (config, files);
        }
        catch (JsonException ex)
        {
            throw new ServingException(FailureKind.InvalidInput, $"malformed JSON in load request: {ex.Message}", ex);
        }
    }

    private static (long Version, byte[] Bytes) ParseFile(string name, JsonElement value, long maxModelBytes)
    {
        // "file:<version>/model.onnx": the version's model file, base64-encoded.
        var path = name["file:".Length..].Split('/');
        if (path.Length != 2 || path[1] != "model.onnx"
            || !long.TryParse(path[0], NumberStyles.None, CultureInfo.InvariantCulture, out var version) || version < 1)
        {
            throw ServingException.Invalid($"load parameter '{name}' must name 'file:<version>/model.onnx' with a positive version");
        }

        var text = value.GetString()!;
        if ((long)text.Length / 4 * 3 > maxModelBytes)
        {
            throw new ServingException(FailureKind.PayloadTooLarge, $"'{name}' is larger than the limit of {maxModelBytes} bytes (MaaS:Limits:MaxModelBytes)");
        }

        var bytes = new byte[Base64.GetMaxDecodedFromUtf8Length(text.Length)];
        return Convert.TryFromBase64String(text, bytes, out var written)
            ? (version, bytes[..written])
            : throw ServingException.Invalid($"load parameter '{name}' is not valid base64");
    }
}
