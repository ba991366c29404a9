namespace MaaS.Client;

/// <summary>The Open Inference Protocol's datatype names, their element sizes and their .NET types.</summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1720", Justification = "the protocol's own datatype names")]
public static class Datatypes
{
    public const string Bool = "BOOL";
    public const string UInt8 = "UINT8";
    public const string UInt16 = "UINT16";
    public const string UInt32 = "UINT32";
    public const string UInt64 = "UINT64";
    public const string Int8 = "INT8";
    public const string Int16 = "INT16";
    public const string Int32 = "INT32";
    public const string Int64 = "INT64";
    public const string Fp16 = "FP16";
    public const string Bf16 = "BF16";
    public const string Fp32 = "FP32";
    public const string Fp64 = "FP64";
    public const string Bytes = "BYTES";

    /// <summary>Bytes per element; 0 for BYTES (length-prefixed elements); -1 for a name the protocol does not have.</summary>
    public static int ElementSize(string datatype) => datatype switch
    {
        Bool or UInt8 or Int8 => 1,
        UInt16 or Int16 or Fp16 or Bf16 => 2,
        UInt32 or Int32 or Fp32 => 4,
        UInt64 or Int64 or Fp64 => 8,
        Bytes => 0,
        _ => -1,
    };

    /// <summary>The datatype carried by elements of <typeparamref name="T"/> (BF16 has no .NET type: use raw bytes).</summary>
    public static string Of<T>()
        where T : unmanaged => typeof(T) switch
        {
            var t when t == typeof(bool) => Bool,
            var t when t == typeof(byte) => UInt8,
            var t when t == typeof(ushort) => UInt16,
            var t when t == typeof(uint) => UInt32,
            var t when t == typeof(ulong) => UInt64,
            var t when t == typeof(sbyte) => Int8,
            var t when t == typeof(short) => Int16,
            var t when t == typeof(int) => Int32,
            var t when t == typeof(long) => Int64,
            var t when t == typeof(Half) => Fp16,
            var t when t == typeof(float) => Fp32,
            var t when t == typeof(double) => Fp64,
            _ => throw new NotSupportedException(typeof(T).Name + " is no protocol datatype"),
        };
}
