using System.Runtime.InteropServices;
using Google.Protobuf;
using MaaS.Core.Optimization.Onnx;

namespace MaaS.Core.Optimization;

/// <summary>Reads and makes the tensors the transforms touch. raw_data is little-endian, as on every platform we run.</summary>
internal static class OnnxTensors
{
    public const int Float = (int)TensorProto.Types.DataType.Float;
    public const int Float16 = (int)TensorProto.Types.DataType.Float16;
    public const int Int8 = (int)TensorProto.Types.DataType.Int8;
    public const int Int32 = (int)TensorProto.Types.DataType.Int32;
    public const int Int64 = (int)TensorProto.Types.DataType.Int64;

    public static long ElementCount(TensorProto tensor) => tensor.Dims.Aggregate(1L, (count, dim) => count * dim);

    /// <summary>The elements of a FLOAT tensor, from raw_data or float_data.</summary>
    public static float[] ReadFloats(TensorProto tensor)
    {
        if (tensor.DataType != Float)
        {
            throw new ArgumentException($"tensor '{tensor.Name}' is not FLOAT", nameof(tensor));
        }

        var count = ElementCount(tensor);
        var values = tensor.RawData.Length > 0
            ? MemoryMarshal.Cast<byte, float>(tensor.RawData.Span).ToArray()
            : tensor.FloatData.ToArray();
        return values.Length == count
            ? values
            : throw ServingException.Invalid($"tensor '{tensor.Name}' holds {values.Length} values where its shape needs {count}");
    }

    public static TensorProto Make<T>(string name, int dataType, ReadOnlySpan<long> dims, ReadOnlySpan<T> values)
        where T : unmanaged
    {
        var tensor = new TensorProto { Name = name, DataType = dataType, RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(values)) };
        tensor.Dims.AddRange(dims.ToArray());
        return tensor;
    }

    /// <summary>Replaces a FLOAT tensor's payload with FLOAT16 in place; returns how many values were clamped to ±65504.</summary>
    public static int ConvertToFloat16(TensorProto tensor)
    {
        var floats = ReadFloats(tensor);
        var halves = new Half[floats.Length];
        var clamped = 0;
        for (var i = 0; i < floats.Length; i++)
        {
            var value = floats[i];
            if (float.IsFinite(value) && Math.Abs(value) > (float)Half.MaxValue)
            {
                value = MathF.CopySign((float)Half.MaxValue, value);
                clamped++;
            }

            halves[i] = (Half)value;
        }

        tensor.FloatData.Clear();
        tensor.DataType = Float16;
        tensor.RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(halves.AsSpan()));
        return clamped;
    }
}
