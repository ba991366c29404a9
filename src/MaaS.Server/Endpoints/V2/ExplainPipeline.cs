using MaaS.Core.Explain;
using MaaS.Core;
using MaaS.Core.Inference;
using MaaS.Core.Pipelines;
using MaaS.Core.Registry;
using MaaS.Server.Hosting;
using MaaS.Server.Hosting.Metrics;

namespace MaaS.Server.Endpoints.V2;

/// <summary>
/// The path an explanation takes, from V2 or KServe V1: the inference pipeline's resolve, decode (before any lease),
/// lease and decode-again-when-the-version-moved, then the <see cref="Explainer"/>, whose perturbed rows run through the
/// leased version's own sessions or batcher, and the protocol's writer while the lease is held. A pipeline model is
/// explained through its inner model (whose version the route addresses, and whose explain series count it), the
/// pipeline turning its request into the inner model's tensors and the attributions back into its own inputs'.
/// </summary>
internal sealed class ExplainPipeline(
    LoadedModelCache cache, PipelineCatalog pipelines, Explainer explainer, InferenceStatistics statistics, Telemetry telemetry)
{
    public Task RunAsync(
        HttpContext context, string modelName, long? version, string? label, Func<ModelSignature, InferRequest> decode,
        Func<Explanation, InferRequest, ExplainedModel, Task> write, CancellationToken cancellationToken)
    {
        context.SetServedModel(modelName);
        if (!pipelines.TryGet(modelName, out var pipeline))
        {
            return RunAsync(
                context, modelName, modelName, version, label, signature => signature, decode,
                (lease, request, parameters) => explainer.ExplainAsync(lease.Model, request, parameters, cancellationToken),
                (explanation, request, lease) => write(explanation, request, new ExplainedModel(lease.ModelName, lease.VersionNumber, lease.Model.Signature.MaxBatchSize > 0)),
                cancellationToken);
        }

        var explainable = pipeline as IExplainablePipeline
            ?? throw ServingException.Invalid($"model '{modelName}' is a pipeline model whose steps cannot be explained; explain its inner model '{pipeline.InnerModel}'");
        return RunAsync(
            context, modelName, pipeline.InnerModel, version, label, pipeline.SignatureFor, decode,
            (lease, request, parameters) => explainer.ExplainAsync(explainable, lease.Model, request, parameters, cancellationToken),
            (explanation, request, lease) => write(explanation, request, new ExplainedModel(pipeline.Name, lease.VersionNumber, Batched: true)),
            cancellationToken);
    }

    /// <summary>
    /// Explains a request of <paramref name="modelName"/> on a leased version of <paramref name="runName"/> (the model
    /// itself, or a pipeline's inner model), decoded for <paramref name="signatureOf"/> the version's signature.
    /// </summary>
    private async Task RunAsync(
        HttpContext context, string modelName, string runName, long? version, string? label, Func<ModelSignature, ModelSignature> signatureOf,
        Func<ModelSignature, InferRequest> decode, Func<VersionLease, InferRequest, ExplainParameters, Task<Explanation>> explain,
        Func<Explanation, InferRequest, VersionLease, Task> write, CancellationToken cancellationToken)
    {
        var (number, signature) = cache.Resolve(runName, version, label);
        context.SetServedVersion(number);
        var tracker = statistics.StartExplain(modelName, number); // a pipeline's explanations are its own, as its inferences are
        InferRequest? request = null;
        try
        {
            request = Decode(decode, signatureOf(signature), modelName, number);
            using var lease = await cache.AcquireAsync(runName, version, label, cancellationToken);
            if (!ReferenceEquals(lease.Model.Signature, signature))
            {
                // As for inference: the version changed between decode and lease, so decode for the one that will run it.
                context.SetServedVersion(tracker.Version = lease.VersionNumber);
                request.Dispose();
                request = null;
                request = Decode(decode, signatureOf(lease.Model.Signature), modelName, lease.VersionNumber);
            }

            var parameters = ExplainParameters.Parse(request.ParametersJson);
            Explanation explanation;
            using (var activity = telemetry.Start("maas.explain", modelName, lease.VersionNumber))
            {
                explanation = await explain(lease, request, parameters);
                activity?.SetTag("maas.explain.method", explanation.Method.ToString().ToLowerInvariant())
                    .SetTag("maas.explain.evaluations", explanation.Evaluations);
            }

            using (telemetry.Start("maas.encode", modelName, lease.VersionNumber))
            {
                await write(explanation, request, lease);
            }

            tracker.Succeeded(explanation.Evaluations);
        }
        catch (Exception) when (tracker.Failed())
        {
            throw;
        }
        finally
        {
            request?.Dispose();
        }
    }

    private InferRequest Decode(Func<ModelSignature, InferRequest> decode, ModelSignature signature, string modelName, long version)
    {
        using (telemetry.Start("maas.decode", modelName, version))
        {
            return decode(signature);
        }
    }
}

/// <summary>What an explanation's answer names: the model (a pipeline's own name), the version that ran it, and whether its attributions have a batch dim.</summary>
internal readonly record struct ExplainedModel(string Name, long Version, bool Batched);
