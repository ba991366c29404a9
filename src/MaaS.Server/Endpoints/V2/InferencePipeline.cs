using MaaS.Core;
using MaaS.Core.Inference;
using MaaS.Core.Pipelines;
using MaaS.Core.Registry;
using MaaS.Server.Hosting;
using MaaS.Server.Hosting.Metrics;

namespace MaaS.Server.Endpoints.V2;

/// <summary>
/// The one path an inference request takes, whichever protocol brought it (HTTP V2 or gRPC): the registry resolves the
/// version (a number, a label or the latest), the request is decoded before the version is leased (a slow or bad request
/// holds no version, and an evicted one is not loaded again for it), the model runs it (through its dynamic batcher
/// when it has one), and statistics, metrics, traces and the request log's served version are recorded the same way.
/// </summary>
internal sealed class InferencePipeline(
    LoadedModelCache cache, PipelineCatalog pipelines, InferenceStatistics statistics, Telemetry telemetry, TimeProvider time)
{
    /// <remarks>
    /// <c>context</c> records the served model and version for the request log; it is null when the caller records them
    /// itself (a gRPC stream runs several requests at once on one call, and HttpContext is not thread-safe).
    /// </remarks>
    public async Task RunAsync<TExchange>(
        HttpContext? context, string modelName, long? version, string? label, TExchange exchange, CancellationToken cancellationToken)
        where TExchange : IInferExchange
    {
        context?.SetServedModel(modelName);
        if (pipelines.TryGet(modelName, out var pipeline))
        {
            await RunPipelineAsync(context, pipeline, version, label, exchange, cancellationToken);
            return;
        }

        var (number, signature) = cache.Resolve(modelName, version, label);
        RefuseRawImage(exchange, modelName);
        context?.SetServedVersion(number);
        var tracker = statistics.Start(modelName, number);
        InferRequest? request = null;
        try
        {
            request = Decode(exchange, signature, modelName, number);
            tracker.Decoded();
            using var lease = await cache.AcquireAsync(modelName, version, label, cancellationToken);
            if (!ReferenceEquals(lease.Model.Signature, signature))
            {
                // Loaded again since, or the latest or the label moved on: decode for the version that will run it.
                tracker.Version = lease.VersionNumber;
                context?.SetServedVersion(lease.VersionNumber);
                signature = lease.Model.Signature;
                request.Dispose();
                request = null;
                request = Decode(exchange, signature, modelName, lease.VersionNumber);
            }

            var runStarted = time.GetUtcNow();
            using var result = await lease.Model.RunAsync(request, cancellationToken);
            telemetry.RecordRun(modelName, lease.VersionNumber, runStarted, result.Timings);
            using (telemetry.Start("maas.encode", modelName, lease.VersionNumber))
            {
                await exchange.WriteAsync(result, request, lease.ModelName, lease.VersionNumber, cancellationToken);
            }

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

    /// <summary>
    /// A pipeline model: the request is decoded for the pipeline's own inputs and its client data read (texts,
    /// images) before the inner model is leased, its steps run around the inner model (whose version or label the
    /// route addresses), and the answer names the pipeline.
    /// </summary>
    private Task RunPipelineAsync<TExchange>(
        HttpContext? context, PipelineModel pipeline, long? version, string? label, TExchange exchange, CancellationToken cancellationToken)
        where TExchange : IInferExchange => pipeline switch
        {
            TextEmbeddingPipeline text => RunTextAsync(context, text, version, label, exchange, cancellationToken),
            ImageClassificationPipeline image => RunImageAsync(context, image, version, label, exchange, cancellationToken),
            _ => throw new InvalidOperationException($"no route for pipeline {pipeline.GetType().Name}"),
        };

    private async Task RunTextAsync<TExchange>(
        HttpContext? context, TextEmbeddingPipeline pipeline, long? version, string? label, TExchange exchange, CancellationToken cancellationToken)
        where TExchange : IInferExchange
    {
        RefuseRawImage(exchange, pipeline.Name);
        var (number, inner) = cache.Resolve(pipeline.InnerModel, version, label);
        context?.SetServedVersion(number);
        var signature = pipeline.SignatureFor(inner);
        var tracker = statistics.Start(pipeline.Name, number);
        try
        {
            using var request = Decode(exchange, signature, pipeline.Name, number);
            tracker.Decoded();
            var texts = pipeline.ReadTexts(request);
            using var lease = await cache.AcquireAsync(pipeline.InnerModel, version, label, cancellationToken);
            tracker.Version = lease.VersionNumber;
            var embeddings = await pipeline.EmbedAsync(texts, lease.Model, request.Priority, request.TimeoutMicroseconds, cancellationToken);
            using var result = TextEmbeddingPipeline.ToResult(embeddings, request);
            await exchange.WriteAsync(result, request, pipeline.Name, lease.VersionNumber, cancellationToken);
            tracker.Succeeded(request, result, signature);
        }
        catch (Exception ex) when (tracker.Failed(ex))
        {
            throw;
        }
    }

    private async Task RunImageAsync<TExchange>(
        HttpContext? context, ImageClassificationPipeline pipeline, long? version, string? label, TExchange exchange, CancellationToken cancellationToken)
        where TExchange : IInferExchange
    {
        var (number, inner) = cache.Resolve(pipeline.InnerModel, version, label);
        context?.SetServedVersion(number);
        var signature = pipeline.SignatureFor(inner);
        var tracker = statistics.Start(pipeline.Name, number);
        try
        {
            using var request = Decode(exchange, signature, pipeline.Name, number);
            using var images = await pipeline.PrepareAsync(request, inner, cancellationToken);
            tracker.Decoded();
            using var lease = await cache.AcquireAsync(pipeline.InnerModel, version, label, cancellationToken);
            tracker.Version = lease.VersionNumber;
            using var result = await pipeline.ClassifyAsync(images, lease.Model, request, cancellationToken);
            await exchange.WriteAsync(result, request, pipeline.Name, lease.VersionNumber, cancellationToken);
            tracker.Succeeded(request, result, signature);
        }
        catch (Exception ex) when (tracker.Failed(ex))
        {
            throw;
        }
    }

    private static void RefuseRawImage<TExchange>(TExchange exchange, string modelName)
        where TExchange : IInferExchange
    {
        if (exchange.IsRawImage)
        {
            throw ServingException.Invalid(
                $"model '{modelName}' is not an image pipeline model: a raw image body (Content-Type image/png, image/jpeg, image/webp or image/bmp) is the image input of one (docs/pipelines.md); send this model V2 JSON or binary tensors");
        }
    }

    private InferRequest Decode<TExchange>(TExchange exchange, ModelSignature signature, string modelName, long version)
        where TExchange : IInferExchange
    {
        using (telemetry.Start("maas.decode", modelName, version))
        {
            return exchange.Decode(signature);
        }
    }
}
