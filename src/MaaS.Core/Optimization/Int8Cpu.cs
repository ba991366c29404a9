using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace MaaS.Core.Optimization;

/// <summary>Whether this CPU multiplies uint8 by int8 with a dot-product instruction that cannot saturate.</summary>
internal static class Int8Cpu
{
    /// <summary>
    /// True on x64 without VNNI (AVX-VNNI or AVX-512 VNNI), where ONNX Runtime's uint8 x int8 kernels add pairs of
    /// products in 16 bits. .NET exposes AVX-VNNI but not AVX-512 VNNI, so on Linux the kernel's CPU flags are read too.
    /// </summary>
    public static bool DotProductMaySaturate()
    {
        if (RuntimeInformation.ProcessArchitecture is not (Architecture.X64 or Architecture.X86) || AvxVnni.IsSupported)
        {
            return false;
        }

        try
        {
            return !File.Exists("/proc/cpuinfo") || !File.ReadLines("/proc/cpuinfo")
                .Any(line => line.StartsWith("flags", StringComparison.Ordinal) && line.Contains(" avx512_vnni", StringComparison.Ordinal));
        }
        catch (IOException)
        {
            return true;
        }
        catch (UnauthorizedAccessException)
        {
            return true;
        }
    }
}
