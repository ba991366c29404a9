using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json;
using MaaS.Core;
using MaaS.Core.Pipelines;
using MaaS.Core.Registry;
using MaaS.Server.Hosting;
using MaaS.Server.Hosting.Metrics;
using Microsoft.Extensions.Options;

namespace MaaS.Server.Endpoints.OpenAI;

/// <summary>
/// <c>POST /v1/embeddings</c>, OpenAI's embeddings API over every text-embedding pipeline model (docs/pipelines.md).
/// The texts go through the same pipeline as the model's V2 route; errors are in OpenAI's shape (<see cref="OpenAIError"/>).
/// </summary>
internal static class EmbeddingsEndpoints
{
    public static RouteHandlerBuilder MapEmbeddings(this IEndpointRouteBuilder routes) =>
        routes.MapPost(OpenAIError.PathPrefix, EmbedAsync)
            .WithTags("OpenAI")
            .WithSummary("OpenAI embeddings: {\"model\", \"input\": string or [string], \"encoding_format\": \"float\"|\"base64\"}.")
            .RequireInferenceKey(routes)
            .RequireInferenceLimits();

    private static async Task EmbedAsync(
        HttpContext context, PipelineCatalog pipelines, LoadedModelCache cache, InferenceStatistics statistics, IOptions<LimitsOptions> limits, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        using var body = await RequestBody.ReadAsync(context.Request, limits.Value.MaxRequestBodyBytes, cancellationToken);
        var request = EmbeddingsRequest.Parse(body.Span);
        if (!pipelines.TryGet(request.Model, out var found) || found is not TextEmbeddingPipeline pipeline)
        {
            var known = string.Join(", ", pipelines.TextEmbeddingModels.Select(name => $"'{name}'"));
            throw new ServingException(
                FailureKind.ModelNotFound, $"model '{request.Model}' is not a text-embedding model here; these are: {(known.Length == 0 ? "none" : known)}");
        }

        context.SetServedModel(pipeline.Name);
        using var lease = await cache.AcquireAsync(pipeline.InnerModel, null, null, cancellationToken);
        context.SetServedVersion(lease.VersionNumber);

        // Counted in the pipeline model's statistics, as its V2 route is (the request read and parsed is the decode).
        var tracker = new InferenceTracker(statistics, pipeline.Name, lease.VersionNumber, started);
        tracker.Decoded();
        try
        {
            var embeddings = await pipeline.EmbedAsync(request.Input, lease.Model, 0, 0, cancellationToken);
            context.Response.ContentType = "application/json";
            await using (var json = new Utf8JsonWriter(context.Response.BodyWriter, MaaSJsonContext.WriterOptions))
            {
                Write(json, embeddings, pipeline.Name, request.Base64);
            }

            await context.Response.BodyWriter.FlushAsync(cancellationToken);
            tracker.Succeeded(embeddings.Count, embeddings.Timings, embeddings.Count);
        }
        catch (Exception ex) when (tracker.Failed(ex))
        {
            throw;
        }
    }

    private static void Write(Utf8JsonWriter json, TextEmbeddings embeddings, string model, bool base64)
    {
        json.WriteStartObject();
        json.WriteString("object", "list");
        json.WriteStartArray("data");
        for (var i = 0; i < embeddings.Count; i++)
        {
            json.WriteStartObject();
            json.WriteString("object", "embedding");
            json.WriteNumber("index", i);
            var vector = embeddings[i].Span;
            if (base64)
            {
                // OpenAI's base64 form: the little-endian float32 bytes.
                json.WriteBase64String("embedding", MemoryMarshal.AsBytes(vector));
            }
            else
            {
                json.WriteStartArray("embedding");
                foreach (var value in vector)
                {
                    json.WriteNumberValue(value);
                }

                json.WriteEndArray();
            }

            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteString("model", model);
        json.WriteStartObject("usage");
        json.WriteNumber("prompt_tokens", embeddings.Tokens);
        json.WriteNumber("total_tokens", embeddings.Tokens);
        json.WriteEndObject();
        json.WriteEndObject();
    }
}
