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
    private readonly bool _sevenBitWeights;

    /// <summary>The fused kernel, with seven-bit MatMul weights only where this CPU's int8 dot product can saturate.</summary>
    public Int8Transform()
        : this(Int8MatMulKernel.DynamicQuantizeMatMul, Int8Cpu.DotProductMaySaturate())
    {
    }

    /// <param name="kernel">How a quantised MatMul runs; see <see cref="Int8MatMulKernel"/>.</param>
    /// <param name="sevenBitWeights">
    /// Quantise MatMul and Gemm weights to ±63 instead of ±127. ONNX Runtime multiplies uint8 activations by int8
    /// weights with an instruction (VPMADDUBSW) that saturates the sum of two products at 16 bits on x64 CPUs without
    /// VNNI; halving the weight range rules that out, for a little accuracy.
    /// </param>
    public Int8Transform(Int8MatMulKernel kernel, bool sevenBitWeights = false)
    {
        _kernel = kernel;
        _sevenBitWeights = sevenBitWeights;
    }

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
        var outcome = new Int8Rewriter(model, _kernel, _sevenBitWeights).Run(cancellationToken);
        if (outcome.NodesChanged == 0)
        {
            throw new NothingToOptimizeException("nothing to quantise: " + string.Join("; ", outcome.Notes));
        }

        return outcome;
    }
}
