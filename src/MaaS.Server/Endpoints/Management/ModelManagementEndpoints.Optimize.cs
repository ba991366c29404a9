using System.Globalization;
using MaaS.Core.Optimization;
using MaaS.Server.Endpoints.V2;
using MaaS.Server.Hosting;
using Microsoft.Extensions.Options;

namespace MaaS.Server.Endpoints.Management;

internal static partial class ModelManagementEndpoints
{
    private static void MapOptimize(RouteGroupBuilder group) =>
        group.MapPost("/versions/{modelVersion:regex(^[0-9]+$)}/optimize", OptimizeAsync)
            .WithSummary("Derive an optimised version (method int8, fp16 or graph) and measure it against the source on validation inputs: 201 with the report and Location of the new version, or 422 with the report (accepted false, version null, error naming the broken bound) and nothing kept. Body: {\"method\", \"inputs\"?, \"max_abs_diff\"?, \"min_cosine\"?, \"min_top1_agreement\"?, \"label\"?}.")
            .WithMetadata(new RequestBodyDocumentation(typeof(System.Text.Json.Nodes.JsonObject)))
            .Produces<OptimizationReport>(StatusCodes.Status201Created)
            .Produces<OptimizationReport>(StatusCodes.Status422UnprocessableEntity)
            .Produces<ErrorResponse>(StatusCodes.Status400BadRequest)
            .Produces<ErrorResponse>(StatusCodes.Status404NotFound)
            .Produces<ErrorResponse>(StatusCodes.Status409Conflict)
            .Produces<ErrorResponse>(StatusCodes.Status413PayloadTooLarge)
            .Produces<ErrorResponse>(StatusCodes.Status507InsufficientStorage);

    /// <summary>
    /// Runs the optimisation (minutes for a large model; the client's disconnect cancels it and nothing is kept). The
    /// answer is the report either way: 201 with Location <c>/v2/models/{m}/versions/{new}</c>, as an upload answers,
    /// or 422 when the result broke a bound. A 422 without a report (<c>{"error"}</c> only) means nothing could be measured.
    /// </summary>
    private static async Task<IResult> OptimizeAsync(
        HttpRequest request, string modelName, string modelVersion, ModelOptimizer optimizer, IOptions<LimitsOptions> limits, CancellationToken cancellationToken)
    {
        var version = ModelVersionRoute.Parse(modelVersion)!.Value;
        var body = await ReadSmallAsync(request.Body, (int)Math.Min(limits.Value.MaxRequestBodyBytes, int.MaxValue), "optimize request", cancellationToken);
        var report = await optimizer.OptimizeAsync(modelName, version, OptimizeRequest.Parse(body), limits.Value.MaxModelBytes, cancellationToken);
        if (!report.Accepted)
        {
            return TypedResults.Json(report, OptimizationJsonContext.Relaxed.OptimizationReport, statusCode: StatusCodes.Status422UnprocessableEntity);
        }

        var location = $"/v2/models/{Uri.EscapeDataString(modelName)}/versions/{report.Version!.Value.ToString(CultureInfo.InvariantCulture)}";
        request.HttpContext.Response.Headers.Location = location;
        return TypedResults.Json(report, OptimizationJsonContext.Relaxed.OptimizationReport, statusCode: StatusCodes.Status201Created);
    }
}
