using System.Text.RegularExpressions;
using MaaS.Core.Optimization.Onnx;
using Microsoft.ML.OnnxRuntime;

namespace MaaS.Core.Optimization;

/// <summary>
/// FP32 weights and compute to FP16, for GPUs: float initializers and Constant tensors are stored as FP16, nodes compute
/// in FP16, and the model's inputs and outputs keep their declared types (Cast at the edges). Operators whose ONNX
/// type constraints have no FP16 (Range, the random generators, Resize's scales) stay FP32 behind Casts. The result is
/// opened with ONNX Runtime's CPU provider before it is returned: a node the runtime refuses in FP16 is kept FP32 and
/// the conversion redone, so a written model always loads. On the CPU, ONNX Runtime runs FP16 nodes it has no FP16
/// kernel for through FP32 casts, so the result is correct there but not faster.
/// </summary>
public sealed partial class Fp16Transform : IModelTransform
{
    // Each retry keeps one more node FP32; a model needing more than this is refused rather than retried for ever.
    private const int MaxAttempts = 16;

    public string Method => "fp16";

    public TransformOutcome Apply(string sourceModelPath, string destinationPath, CancellationToken cancellationToken)
    {
        var source = OnnxModelFile.Read(sourceModelPath, cancellationToken);
        NameNodes(source);
        var keepFp32 = new HashSet<string>(StringComparer.Ordinal);
        for (var attempt = 1; ; attempt++)
        {
            var model = source.Clone();
            var outcome = new Fp16Rewriter(model, keepFp32).Run(cancellationToken);
            OnnxModelFile.Write(model, destinationPath);
            var error = LoadError(destinationPath);
            if (error is null)
            {
                return outcome;
            }

            var culprit = Culprit(error);
            if (culprit is null || attempt == MaxAttempts || !keepFp32.Add(culprit))
            {
                throw ServingException.Invalid($"the model converted to FP16 does not load in ONNX Runtime: {error}");
            }
        }
    }

    /// <summary>Names the main graph's unnamed nodes, so that ONNX Runtime's errors can say which node it refused.</summary>
    private static void NameNodes(ModelProto model)
    {
        var names = new OnnxNames(model);
        foreach (var node in model.Graph.Node.Where(node => node.Name.Length == 0))
        {
            node.Name = names.Fresh(node.OpType);
        }
    }

    private static string? LoadError(string path)
    {
        try
        {
            using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL };
            using var session = new InferenceSession(path, options);
            return null;
        }
        catch (OnnxRuntimeException ex)
        {
            return ex.Message;
        }
    }

    /// <summary>The node an ONNX Runtime load error names ("... in node (X)", "node with name 'X'"), if any.</summary>
    private static string? Culprit(string error)
    {
        var match = NodeInError().Match(error);
        return match.Success ? match.Groups["a"].Success ? match.Groups["a"].Value : match.Groups["b"].Value : null;
    }

    [GeneratedRegex(@"in node \((?<a>[^)]*)\)|node with name '(?<b>[^']*)'")]
    private static partial Regex NodeInError();
}
