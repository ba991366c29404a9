using MaaS.Core.Optimization.Onnx;

namespace MaaS.Core.Optimization;

/// <summary>
/// Dynamic int8 quantisation of constant weights: MatMul and Gemm with a 2-D FP32 initializer as B (symmetric int8
/// per output column, activations quantised at run time), and Gather over a 2-D FP32 initializer table on axis 0
/// (int8 rows with a per-row scale, dequantised after the gather so the table is never expanded whole). Every other
/// operator, Conv included, stays FP32.
/// </summary>
public sealed class Int8Transform : IModelTransform
{
    private readonly Int8MatMulKernel _kernel;

    public Int8Transform()
        : this(Int8MatMulKernel.DynamicQuantizeMatMul)
    {
    }

    /// <param name="kernel">How a quantised MatMul runs; the default is the faster one on CPU (see <see cref="Int8MatMulKernel"/>).</param>
    public Int8Transform(Int8MatMulKernel kernel) => _kernel = kernel;

    public string Method => "int8";

    public TransformOutcome Apply(string sourceModelPath, string destinationPath, CancellationToken cancellationToken)
    {
        var model = OnnxModelFile.Read(sourceModelPath, cancellationToken);
        var outcome = Quantize(model, cancellationToken);
        OnnxModelFile.Write(model, destinationPath);
        return outcome;
    }

    internal TransformOutcome Quantize(ModelProto model, CancellationToken cancellationToken)
    {
        var rewriter = new Int8Rewriter(model, _kernel);
        var outcome = rewriter.Run(cancellationToken);
        if (outcome.NodesChanged == 0)
        {
            throw new NothingToOptimizeException("nothing to quantise: " + string.Join("; ", outcome.Notes));
        }

        return outcome;
    }
}

/// <summary>The operators a quantised MatMul or Gemm becomes.</summary>
public enum Int8MatMulKernel
{
    /// <summary>
    /// ONNX Runtime's fused <c>com.microsoft</c> DynamicQuantizeMatMul: one node quantises A, multiplies and rescales.
    /// The default: measured faster than the standard-operator form (see docs/optimization.md).
    /// </summary>
    DynamicQuantizeMatMul,

    /// <summary>Standard ONNX operators only: DynamicQuantizeLinear, MatMulInteger, Cast, Mul (portable to other runtimes).</summary>
    MatMulInteger,
}
