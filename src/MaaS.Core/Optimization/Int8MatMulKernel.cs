namespace MaaS.Core.Optimization;

/// <summary>
/// The operators a quantised MatMul or Gemm becomes. Measured with <c>MaaS.Benchmarks int8-kernels</c> (6 MiniLM-shaped
/// layers, [1, 128, 384] input, one thread, AVX-512 VNNI CPU): at ONNX Runtime's default graph level ("all") both run
/// alike (7.5 ms against 22.7 ms in FP32), because the runtime fuses the standard form into its own fused kernel; at
/// "basic" the fused form is 1.2x faster (7.8 ms against 9.4 ms). Hence the default.
/// </summary>
public enum Int8MatMulKernel
{
    /// <summary>ONNX Runtime's <c>com.microsoft</c> DynamicQuantizeMatMul: one node quantises A, multiplies and rescales.</summary>
    DynamicQuantizeMatMul,

    /// <summary>Standard ONNX operators only: DynamicQuantizeLinear, MatMulInteger, Cast, Mul (portable to other runtimes).</summary>
    MatMulInteger,
}
