using MaaS.Core.Registry;
using MaaS.Server.Endpoints.Management;
using MaaS.Server.Hosting;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace MaaS.Server.Endpoints.V2;

/// <summary>Triton's model repository extension: load (or reload, or create from the request) and unload.</summary>
internal static class RepositoryEndpoints
{
    /// <summary>Largest value in a load request other than a file (the config text, mostly).</summary>
    private const int MaxConfigBytes = 1024 * 1024;

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
        // base64 makes files a third larger; the JSON around them is small. Several files may come in one request.
        var bodyLimit = Math.Max(limits.Value.MaxRequestBodyBytes, (maxModelBytes / 3 * 4) + (1 << 20));
        ModelManagementEndpoints.RaiseBodyLimit(context, bodyLimit);
        var (config, files) = await LoadRequestReader.ReadAsync(
            context.Request.Body, MaxConfigBytes, (content, cancellation) => manager.StageUploadAsync(content, maxModelBytes, cancellation), cancellationToken);
        try
        {
            await manager.LoadAsync(modelName, config, files, cancellationToken);
        }
        finally
        {
            foreach (var file in files.Values)
            {
                file.Dispose();
            }
        }

        return TypedResults.Ok();
    }

    private static async Task<Ok> UnloadAsync(HttpRequest request, string modelName, ModelManager manager, CancellationToken cancellationToken)
    {
        // The body may carry {"parameters": {"unload_dependents": bool}}; there are no dependents to unload here.
        await ModelManagementEndpoints.ReadSmallAsync(request.Body, 64 * 1024, "unload request", cancellationToken);
        await manager.UnloadAsync(modelName, cancellationToken);
        return TypedResults.Ok();
    }
}
