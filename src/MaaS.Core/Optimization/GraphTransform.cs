using MaaS.Core.Sessions;
using Microsoft.ML.OnnxRuntime;

namespace MaaS.Core.Optimization;

/// <summary>
/// <c>graph</c>: ONNX Runtime's offline graph optimisation, saved as a model file, so that a large model starts
/// faster (the rewrites are not redone at every load) and computes the same function.
/// </summary>
/// <remarks>
/// The level is <see cref="GraphOptimizationLevel.ORT_ENABLE_BASIC"/>, on the CPU provider. ONNX Runtime documents the
/// basic rewrites (constant folding, redundant node elimination, semantics-preserving fusions such as Conv+BatchNorm)
/// as running before the graph is partitioned among execution providers, so they apply to every provider and the
/// saved file is still a standard ONNX graph. The extended and layout levels run after partitioning: they fuse nodes
/// into provider-specific <c>com.microsoft</c> kernels and CPU-specific memory layouts, and ONNX Runtime asks that a
/// model optimised offline at those levels run only with the same providers and hardware it was optimised on. A
/// version must serve wherever the repository is mounted (a CUDA replica, a CPU replica, a newer CPU), so it gets only
/// what is portable; every session still applies the higher levels online at load, as for any model.
/// </remarks>
internal sealed class GraphTransform(OrtRuntime runtime) : IModelTransform
{
    public string Method => "graph";

    public TransformOutcome Apply(string sourceModelPath, string destinationPath, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        runtime.EnsureInitialized();
        var before = OnnxNodeCount.Of(sourceModelPath)
            ?? throw ServingException.Invalid("the source version's model file is not a readable ONNX model");
        using (var options = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_BASIC,
            OptimizedModelFilePath = destinationPath,
            LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
        })
        {
            try
            {
                // Creating the session runs the optimisers and writes the optimised graph; the session is not used.
                using var session = new InferenceSession(sourceModelPath, options);
            }
            catch (OnnxRuntimeException ex)
            {
                var message = ex.Message.Replace(sourceModelPath, "the source model", StringComparison.Ordinal)
                    .Replace(destinationPath, "the derived model", StringComparison.Ordinal);
                throw new ServingException(FailureKind.Unprocessable, $"ONNX Runtime could not optimise the graph: {message}", ex);
            }
        }

        cancellationToken.ThrowIfCancellationRequested();
        var after = OnnxNodeCount.Of(destinationPath)
            ?? throw new InvalidOperationException("ONNX Runtime wrote an optimised model that cannot be read back");
        var notes = new List<string> { "ONNX Runtime basic graph optimisations (constant folding, redundant node elimination, semantics-preserving fusions), portable across execution providers" };
        notes.Add(after < before
            ? $"{before - after} of {before} nodes folded, eliminated or fused"
            : "no node was removed or fused: the version computes the same graph as the source, in ONNX Runtime's saved form");
        return new TransformOutcome(Math.Max(0, before - after), before, notes);
    }
}
