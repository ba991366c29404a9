using System.Text.Json;
using MaaS.Core.Inference;
using MaaS.Core.Registry;
using MaaS.Server.Hosting;
using MaaS.Server.Hosting.Metrics;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace MaaS.Server.Endpoints.V1;

internal static class PredictV1Endpoints
{
    public static RouteGroupBuilder MapPredictV1(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/v1/models").WithTags("KServe V1").RequireInferenceKey(routes).RefuseWhileDraining();
        group.MapGet("", ListModels).WithSummary("Names of the models that can serve.");
        group.MapGet("/{modelName}", GetModel).WithSummary("Whether the model can serve.").Produces<ErrorResponse>(StatusCodes.Status404NotFound);
        // Singletons taken once, as on V2's infer route: a service parameter would create a DI scope per request.
        var cache = routes.ServiceProvider.GetRequiredService<LoadedModelCache>();
        var statistics = routes.ServiceProvider.GetRequiredService<InferenceStatistics>();
        var maxBodyBytes = routes.ServiceProvider.GetRequiredService<IOptions<LimitsOptions>>().Value.MaxRequestBodyBytes;
        group.MapPost(
                "/{modelName}:predict",
                (HttpContext context, string modelName, CancellationToken cancellationToken) =>
                    PredictAsync(context, modelName, cache, maxBodyBytes, statistics, cancellationToken))
            .WithSummary("Predict: {\"instances\": [row, ...]} (rows as nested arrays, or objects keyed by input name) -> {\"predictions\": [...]}.")
            .WithMetadata(new RequestBodyDocumentation(typeof(PredictRequestDocument)))
            .Produces<PredictResponseDocument>()
            .Produces<ErrorResponse>(StatusCodes.Status400BadRequest)
            .Produces<ErrorResponse>(StatusCodes.Status404NotFound)
            .Produces<ErrorResponse>(StatusCodes.Status413PayloadTooLarge)
            .Produces<ErrorResponse>(StatusCodes.Status503ServiceUnavailable)
            .RequireInferenceLimits();
        group.MapExplainV1();
        return group;
    }

    private static Ok<ModelListResponse> ListModels(ModelRegistry registry) =>
        TypedResults.Ok(new ModelListResponse(registry.Models.Where(model => model.Latest is not null).Select(model => model.Name).ToList()));

    private static Ok<ModelStatusResponse> GetModel(string modelName, ModelRegistry registry) =>
        TypedResults.Ok(new ModelStatusResponse(modelName, registry.GetModel(modelName).Latest is not null));

    private static async Task PredictAsync(
        HttpContext context, string modelName, LoadedModelCache cache, long maxBodyBytes, InferenceStatistics statistics,
        CancellationToken cancellationToken)
    {
        // The body first, and decoded, as on V2: a slow upload holds no version, and a bad one loads none again.
        using var body = await RequestBody.ReadAsync(context.Request, maxBodyBytes, cancellationToken);
        var (number, signature) = cache.Resolve(modelName, version: null, label: null);
        context.SetServedVersion(number);
        var tracker = statistics.Start(modelName, number);
        InferRequest? request = null;
        try
        {
            request = PredictRequestReader.Read(body.Span, signature);
            tracker.Decoded();
            using var lease = await cache.AcquireAsync(modelName, version: null, label: null, cancellationToken);
            if (!ReferenceEquals(lease.Model.Signature, signature))
            {
                context.SetServedVersion(tracker.Version = lease.VersionNumber);
                signature = lease.Model.Signature;
                request.Dispose();
                request = null;
                request = PredictRequestReader.Read(body.Span, signature);
            }

            using var result = await lease.Model.RunAsync(request, cancellationToken);
            context.Response.ContentType = "application/json";
            await using (var json = new Utf8JsonWriter(context.Response.BodyWriter, MaaSJsonContext.WriterOptions))
            {
                PredictResponseWriter.Write(json, result, signature.MaxBatchSize > 0);
            }

            await context.Response.BodyWriter.FlushAsync(cancellationToken);
            tracker.Succeeded(request, result, signature);
        }
        catch (Exception ex) when (tracker.Failed(ex))
        {
            throw;
        }
        finally
        {
            request?.Dispose();
        }
    }
}
