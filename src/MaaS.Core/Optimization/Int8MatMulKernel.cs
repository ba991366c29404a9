namespace MaaS.Core.Optimization;

/// <summary>
/// The operators a quantised MatMul or Gemm becomes. Measured with <c>MaaS.Benchmarks int8-kernels</c> (6 MiniLM-shaped
/// layers of weight MatMuls, [1, 128, 384] input, one intra-op thread, an AVX-512 VNNI CPU, four interleaved runs): at
/// ONNX Runtime's default graph level ("all") both forms run alike (6.98 ms against 6.98 ms; FP32 19.8 ms), because the
/// runtime fuses the standard form into its own kernel; at "basic", where it does not, the fused form is 1.04-1.20x
/// faster (6.96 ms against 7.64 ms in the quietest run). Hence the default.
/// </summary>
public enum Int8MatMulKernel
{
    /// <summary>ONNX Runtime's <c>com.microsoft</c> DynamicQuantizeMatMul: one node quantises A, multiplies and rescales.</summary>
    DynamicQuantizeMatMul,

    /// <summary>Standard ONNX operators only: DynamicQuantizeLinear, MatMulInteger, Cast, Mul (portable to other runtimes).</summary>
    MatMulInteger,
}
