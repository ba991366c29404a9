using System.Buffers.Binary;
using MaaS.Core.Tensors;

namespace MaaS.Core.Explain;

/// <summary>One element of a fixed-size tensor as a number: written (baselines, masked tokens) and read (the target).</summary>
internal static class ElementValues
{
    public static bool IsFloatingPoint(TensorDataType type) => type is TensorDataType.Fp32 or TensorDataType.Fp64 or TensorDataType.Fp16 or TensorDataType.Bf16;

    /// <summary>Writes <paramref name="value"/> as element <paramref name="index"/> (integers round to nearest, then saturate).</summary>
    public static void Write(TensorDataType type, Span<byte> data, int index, double value)
    {
        var size = type.ElementSize();
        var slot = data.Slice(index * size, size);
        switch (type)
        {
            case TensorDataType.Fp32: BinaryPrimitives.WriteSingleLittleEndian(slot, (float)value); break;
            case TensorDataType.Fp64: BinaryPrimitives.WriteDoubleLittleEndian(slot, value); break;
            case TensorDataType.Fp16: BinaryPrimitives.WriteHalfLittleEndian(slot, (Half)value); break;
            case TensorDataType.Bf16: BinaryPrimitives.WriteUInt16LittleEndian(slot, HalfPrecision.ToBFloat16Bits((float)value)); break;
            case TensorDataType.Bool: slot[0] = value != 0 ? (byte)1 : (byte)0; break;
            case TensorDataType.UInt8: slot[0] = (byte)Math.Clamp(Math.Round(value), byte.MinValue, byte.MaxValue); break;
            case TensorDataType.Int8: slot[0] = (byte)(sbyte)Math.Clamp(Math.Round(value), sbyte.MinValue, sbyte.MaxValue); break;
            case TensorDataType.UInt16: BinaryPrimitives.WriteUInt16LittleEndian(slot, (ushort)Math.Clamp(Math.Round(value), ushort.MinValue, ushort.MaxValue)); break;
            case TensorDataType.Int16: BinaryPrimitives.WriteInt16LittleEndian(slot, (short)Math.Clamp(Math.Round(value), short.MinValue, short.MaxValue)); break;
            case TensorDataType.UInt32: BinaryPrimitives.WriteUInt32LittleEndian(slot, (uint)Math.Clamp(Math.Round(value), uint.MinValue, uint.MaxValue)); break;
            case TensorDataType.Int32: BinaryPrimitives.WriteInt32LittleEndian(slot, (int)Math.Clamp(Math.Round(value), int.MinValue, int.MaxValue)); break;
            case TensorDataType.UInt64: BinaryPrimitives.WriteUInt64LittleEndian(slot, (ulong)Math.Clamp(Math.Round(value), 0, ulong.MaxValue)); break;
            case TensorDataType.Int64: BinaryPrimitives.WriteInt64LittleEndian(slot, (long)Math.Clamp(Math.Round(value), long.MinValue, long.MaxValue)); break;
            default: throw new ArgumentOutOfRangeException(nameof(type), type, "BYTES elements have no numeric value");
        }
    }

    /// <summary>Element <paramref name="index"/> of a fixed-size tensor as a double.</summary>
    public static double Read(TensorDataType type, ReadOnlySpan<byte> data, long index)
    {
        var size = type.ElementSize();
        var slot = data.Slice(checked((int)(index * size)), size);
        return type switch
        {
            TensorDataType.Fp32 => BinaryPrimitives.ReadSingleLittleEndian(slot),
            TensorDataType.Fp64 => BinaryPrimitives.ReadDoubleLittleEndian(slot),
            TensorDataType.Fp16 => (double)BinaryPrimitives.ReadHalfLittleEndian(slot),
            TensorDataType.Bf16 => HalfPrecision.FromBFloat16Bits(BinaryPrimitives.ReadUInt16LittleEndian(slot)),
            TensorDataType.Bool or TensorDataType.UInt8 => slot[0],
            TensorDataType.Int8 => (sbyte)slot[0],
            TensorDataType.UInt16 => BinaryPrimitives.ReadUInt16LittleEndian(slot),
            TensorDataType.Int16 => BinaryPrimitives.ReadInt16LittleEndian(slot),
            TensorDataType.UInt32 => BinaryPrimitives.ReadUInt32LittleEndian(slot),
            TensorDataType.Int32 => BinaryPrimitives.ReadInt32LittleEndian(slot),
            TensorDataType.UInt64 => BinaryPrimitives.ReadUInt64LittleEndian(slot),
            TensorDataType.Int64 => BinaryPrimitives.ReadInt64LittleEndian(slot),
            _ => throw ServingException.Invalid("a BYTES output cannot be explained; choose a numeric output as the target"),
        };
    }
}
