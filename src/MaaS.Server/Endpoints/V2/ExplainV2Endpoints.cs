using System.Text.Json;
using MaaS.Core.Explain;
using MaaS.Core.Inference;
using MaaS.Server.Hosting;
using Microsoft.Extensions.Options;

namespace MaaS.Server.Endpoints.V2;

internal static class ExplainV2Endpoints
{
    /// <summary>Maps <c>/explain</c> beside each <c>/infer</c> route of <paramref name="group"/>: same auth, draining filter and inference limits.</summary>
    public static RouteGroupBuilder MapExplainV2(this RouteGroupBuilder group)
    {
        foreach (var prefix in ModelVersionRoute.Prefixes)
        {
            group.MapPost(prefix + "/explain", ExplainAsync)
                .WithSummary("Explain a prediction: a V2 inference request plus \"parameters\" {method, target, baseline, samples, seed, window, stride, token_inputs, mask_input, mask_value}; answers one FP32 attribution tensor per attributed input (a text pipeline model: per token, beside a BYTES output tokens; an image pipeline model: per pixel of its inner model's input image).")
                .WithMetadata(new RequestBodyDocumentation(typeof(ExplainRequestDocument)))
                .Produces<ExplainResponseDocument>(StatusCodes.Status200OK, "application/json")
                .Produces<ErrorResponse>(StatusCodes.Status400BadRequest)
                .Produces<ErrorResponse>(StatusCodes.Status404NotFound)
                .Produces<ErrorResponse>(StatusCodes.Status413PayloadTooLarge)
                .Produces<ErrorResponse>(StatusCodes.Status503ServiceUnavailable)
                .RequireInferenceLimits();
        }

        return group;
    }

    private static async Task ExplainAsync(
        HttpContext context, string modelName, ModelVersionRoute modelVersion, ExplainPipeline pipeline, IOptions<LimitsOptions> limits,
        CancellationToken cancellationToken)
    {
        using var body = await RequestBody.ReadAsync(context.Request, limits.Value.MaxRequestBodyBytes, cancellationToken);
        var headerLength = InferenceV2Endpoints.ReadHeaderLength(context.Request, body.Length);
        await pipeline.RunAsync(
            context,
            modelName,
            modelVersion.Number,
            modelVersion.Label,
            signature => headerLength == 0
                ? InferRequestReader.ReadRaw(body.Span, signature)
                : InferRequestReader.Read(body.Span[..(headerLength ?? body.Length)], body.Memory[(headerLength ?? body.Length)..], signature, forExplanation: true),
            (explanation, request, model) => WriteAsync(context.Response, explanation, request.Id, model.Name, model.Version, cancellationToken),
            cancellationToken);
    }

    private static async Task WriteAsync(HttpResponse response, Explanation explanation, string? id, string modelName, long version, CancellationToken cancellationToken)
    {
        response.ContentType = "application/json";
        await using (var json = new Utf8JsonWriter(response.BodyWriter, MaaSJsonContext.WriterOptions))
        {
            ExplanationWriter.WriteV2(json, explanation, id, modelName, version);
        }

        await response.BodyWriter.FlushAsync(cancellationToken);
    }
}
