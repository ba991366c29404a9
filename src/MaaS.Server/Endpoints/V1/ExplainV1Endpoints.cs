using System.Text.Json;
using MaaS.Core.Explain;
using MaaS.Core.Inference;
using MaaS.Server.Endpoints.V2;
using MaaS.Server.Hosting;
using Microsoft.Extensions.Options;

namespace MaaS.Server.Endpoints.V1;

internal static class ExplainV1Endpoints
{
    /// <summary>KServe V1's <c>:explain</c> beside <c>:predict</c>: the same body and parameters as V2's explanation, KServe's answer shape.</summary>
    public static RouteGroupBuilder MapExplainV1(this RouteGroupBuilder group)
    {
        group.MapPost("/{modelName}:explain", ExplainAsync)
            .WithSummary("Explain: {\"instances\": [...], \"parameters\": {method, target, baseline, ...}} -> {\"predictions\": [...], \"explanations\": [{input: attributions}, ...]}.")
            .WithMetadata(new RequestBodyDocumentation(typeof(ExplainV1RequestDocument)))
            .Produces<ExplainV1ResponseDocument>()
            .Produces<ErrorResponse>(StatusCodes.Status400BadRequest)
            .Produces<ErrorResponse>(StatusCodes.Status404NotFound)
            .Produces<ErrorResponse>(StatusCodes.Status413PayloadTooLarge)
            .Produces<ErrorResponse>(StatusCodes.Status503ServiceUnavailable)
            .RequireInferenceLimits();
        return group;
    }

    private static async Task ExplainAsync(
        HttpContext context, string modelName, ExplainPipeline pipeline, IOptions<LimitsOptions> limits, CancellationToken cancellationToken)
    {
        using var body = await RequestBody.ReadAsync(context.Request, limits.Value.MaxRequestBodyBytes, cancellationToken);
        await pipeline.RunAsync(
            context,
            modelName,
            version: null,
            label: null,
            signature => PredictRequestReader.Read(body.Span, signature, keepParameters: true),
            (explanation, _, model) => WriteAsync(context.Response, explanation, model.Batched, cancellationToken),
            cancellationToken);
    }

    private static async Task WriteAsync(HttpResponse response, Explanation explanation, bool batched, CancellationToken cancellationToken)
    {
        var rowShapes = explanation.Attributions.Select(attribution => batched ? attribution.Shape[1..] : attribution.Shape).ToList();
        response.ContentType = "application/json";
        await using (var json = new Utf8JsonWriter(response.BodyWriter, MaaSJsonContext.WriterOptions))
        {
            ExplanationWriter.WriteV1(json, explanation, rowShapes);
        }

        await response.BodyWriter.FlushAsync(cancellationToken);
    }
}
