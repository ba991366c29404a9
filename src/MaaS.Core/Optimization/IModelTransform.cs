namespace MaaS.Core.Optimization;

/// <summary>
/// One way of deriving an optimised model file from another (int8, fp16, graph). A transform only writes a file; the
/// registry decides whether the result becomes a version, after measuring it against the source.
/// </summary>
public interface IModelTransform
{
    /// <summary>The method's name in the optimize request (<c>int8</c>, <c>fp16</c>, <c>graph</c>).</summary>
    string Method { get; }

    /// <summary>
    /// Reads <paramref name="sourceModelPath"/> (a version's model.onnx; external data only from its own directory) and
    /// writes the derived model to <paramref name="destinationPath"/> (a staging file the caller owns and deletes).
    /// Throws <see cref="NothingToOptimizeException"/> when the model has no operator the method can change, and
    /// <see cref="ServingException"/> with <see cref="FailureKind.InvalidInput"/> when the source cannot be read.
    /// </summary>
    TransformOutcome Apply(string sourceModelPath, string destinationPath, CancellationToken cancellationToken);
}

/// <summary>What a transform changed: nodes rewritten out of the graph's total, and notes for the report.</summary>
public sealed record TransformOutcome(int NodesChanged, int NodesTotal, IReadOnlyList<string> Notes);
