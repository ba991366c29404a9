using MaaS.Core.Explain;
using MaaS.Core.Inference;
using MaaS.Core.Registry;
using MaaS.Server.Hosting;
using MaaS.Server.Hosting.Metrics;

namespace MaaS.Server.Endpoints.V2;

/// <summary>
/// The path an explanation takes, from V2 or KServe V1: the inference pipeline's resolve, decode (before any lease),
/// lease and decode-again-when-the-version-moved, then the <see cref="Explainer"/>, whose perturbed rows run through the
/// leased version's own sessions or batcher, and the protocol's writer while the lease is held.
/// </summary>
internal sealed class ExplainPipeline(LoadedModelCache cache, Explainer explainer, InferenceStatistics statistics, Telemetry telemetry)
{
    public async Task RunAsync(
        HttpContext context, string modelName, long? version, string? label, Func<ModelSignature, InferRequest> decode,
        Func<Explanation, InferRequest, VersionLease, Task> write, CancellationToken cancellationToken)
    {
        context.SetServedModel(modelName);
        var (number, signature) = cache.Resolve(modelName, version, label);
        context.SetServedVersion(number);
        var tracker = statistics.StartExplain(modelName, number);
        InferRequest? request = null;
        try
        {
            request = Decode(decode, signature, modelName, number);
            using var lease = await cache.AcquireAsync(modelName, version, label, cancellationToken);
            if (!ReferenceEquals(lease.Model.Signature, signature))
            {
                // As for inference: the version changed between decode and lease, so decode for the one that will run it.
                context.SetServedVersion(tracker.Version = lease.VersionNumber);
                request.Dispose();
                request = null;
                request = Decode(decode, lease.Model.Signature, modelName, lease.VersionNumber);
            }

            var parameters = ExplainParameters.Parse(request.ParametersJson);
            Explanation explanation;
            using (var activity = telemetry.Start("maas.explain", modelName, lease.VersionNumber))
            {
                explanation = await explainer.ExplainAsync(lease.Model, request, parameters, cancellationToken);
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
