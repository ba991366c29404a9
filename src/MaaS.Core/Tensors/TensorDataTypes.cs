using Microsoft.ML.OnnxRuntime.Tensors;

namespace MaaS.Core.Tensors;

/// <summary>Names and sizes of <see cref="TensorDataType"/>: protocol strings ("FP32"), config strings ("TYPE_FP32"), ONNX types.</summary>
public static class TensorDataTypes
{
    private static readonly string[] ProtocolNames =
        ["BOOL", "UINT8", "UINT16", "UINT32", "UINT64", "INT8", "INT16", "INT32", "INT64", "FP16", "FP32", "FP64", "BYTES", "BF16"];

    private static readonly string[] ConfigNames =
    [
        "TYPE_BOOL", "TYPE_UINT8", "TYPE_UINT16", "TYPE_UINT32", "TYPE_UINT64", "TYPE_INT8", "TYPE_INT16", "TYPE_INT32",
        "TYPE_INT64", "TYPE_FP16", "TYPE_FP32", "TYPE_FP64", "TYPE_STRING", "TYPE_BF16",
    ];

    private static readonly byte[][] ProtocolNamesUtf8 = Array.ConvertAll(ProtocolNames, System.Text.Encoding.UTF8.GetBytes);

    /// <summary>The protocol name, e.g. "FP32".</summary>
    public static string ToProtocolName(this TensorDataType type) => ProtocolNames[(int)type];

    /// <summary>The model-config name, e.g. "TYPE_FP32" ("TYPE_STRING" for BYTES).</summary>
    public static string ToConfigName(this TensorDataType type) => ConfigNames[(int)type];

    public static bool TryParseProtocolName(ReadOnlySpan<byte> utf8, out TensorDataType type)
    {
        for (var i = 0; i < ProtocolNamesUtf8.Length; i++)
        {
            if (utf8.SequenceEqual(ProtocolNamesUtf8[i]))
            {
                type = (TensorDataType)i;
                return true;
            }
        }

        type = default;
        return false;
    }

    public static bool TryParseProtocolName(string name, out TensorDataType type)
    {
        var index = Array.IndexOf(ProtocolNames, name);
        type = (TensorDataType)Math.Max(index, 0);
        return index >= 0;
    }

    public static bool TryParseConfigName(string name, out TensorDataType type)
    {
        var index = Array.IndexOf(ConfigNames, name);
        type = (TensorDataType)Math.Max(index, 0);
        return index >= 0;
    }

    /// <summary>Bytes per element; 0 for BYTES, whose elements vary in size.</summary>
    public static int ElementSize(this TensorDataType type) => type switch
    {
        TensorDataType.Bool or TensorDataType.UInt8 or TensorDataType.Int8 => 1,
        TensorDataType.UInt16 or TensorDataType.Int16 or TensorDataType.Fp16 or TensorDataType.Bf16 => 2,
        TensorDataType.UInt32 or TensorDataType.Int32 or TensorDataType.Fp32 => 4,
        TensorDataType.UInt64 or TensorDataType.Int64 or TensorDataType.Fp64 => 8,
        _ => 0,
    };

    public static TensorElementType ToOnnx(this TensorDataType type) => type switch
    {
        TensorDataType.Bool => TensorElementType.Bool,
        TensorDataType.UInt8 => TensorElementType.UInt8,
        TensorDataType.UInt16 => TensorElementType.UInt16,
        TensorDataType.UInt32 => TensorElementType.UInt32,
        TensorDataType.UInt64 => TensorElementType.UInt64,
        TensorDataType.Int8 => TensorElementType.Int8,
        TensorDataType.Int16 => TensorElementType.Int16,
        TensorDataType.Int32 => TensorElementType.Int32,
        TensorDataType.Int64 => TensorElementType.Int64,
        TensorDataType.Fp16 => TensorElementType.Float16,
        TensorDataType.Fp32 => TensorElementType.Float,
        TensorDataType.Fp64 => TensorElementType.Double,
        TensorDataType.Bytes => TensorElementType.String,
        TensorDataType.Bf16 => TensorElementType.BFloat16,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, null),
    };

    /// <summary>Maps an ONNX element type to ours; false for types the protocol cannot carry (complex, fp8, int4).</summary>
    public static bool TryFromOnnx(TensorElementType onnx, out TensorDataType type)
    {
        (var ok, type) = onnx switch
        {
            TensorElementType.Bool => (true, TensorDataType.Bool),
            TensorElementType.UInt8 => (true, TensorDataType.UInt8),
            TensorElementType.UInt16 => (true, TensorDataType.UInt16),
            TensorElementType.UInt32 => (true, TensorDataType.UInt32),
            TensorElementType.UInt64 => (true, TensorDataType.UInt64),
            TensorElementType.Int8 => (true, TensorDataType.Int8),
            TensorElementType.Int16 => (true, TensorDataType.Int16),
            TensorElementType.Int32 => (true, TensorDataType.Int32),
            TensorElementType.Int64 => (true, TensorDataType.Int64),
            TensorElementType.Float16 => (true, TensorDataType.Fp16),
            TensorElementType.Float => (true, TensorDataType.Fp32),
            TensorElementType.Double => (true, TensorDataType.Fp64),
            TensorElementType.String => (true, TensorDataType.Bytes),
            TensorElementType.BFloat16 => (true, TensorDataType.Bf16),
            _ => (false, default(TensorDataType)),
        };
        return ok;
    }
}
