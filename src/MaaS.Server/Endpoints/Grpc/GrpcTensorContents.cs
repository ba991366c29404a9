using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Google.Protobuf.Collections;
using Inference;
using MaaS.Core;
using MaaS.Core.Tensors;

namespace MaaS.Server.Endpoints.Grpc;

/// <summary>
/// An input's typed <see cref="InferTensorContents"/> (the repeated field of its datatype) as the little-endian bytes the
/// model reads: INT8/INT16/INT32 come in int_contents, UINT8/UINT16/UINT32 in uint_contents (range-checked), BYTES in
/// bytes_contents; FP16 and BF16 have no typed field and must come raw.
/// </summary>
internal static class GrpcTensorContents
{
    public static TensorBuffer Decode(string name, TensorDataType type, long count, InferTensorContents? contents)
    {
        contents ??= new InferTensorContents();
        return type switch
        {
            TensorDataType.Bool => Narrow(name, type, count, contents.BoolContents, static (span, i, v) => span[i] = v ? (byte)1 : (byte)0),
            TensorDataType.Int8 => Narrow(name, type, count, contents.IntContents, static (span, i, v) => span[i] = (byte)checked((sbyte)v)),
            TensorDataType.Int16 => Narrow(name, type, count, contents.IntContents, static (span, i, v) => BinaryPrimitives.WriteInt16LittleEndian(span[(i * 2)..], checked((short)v))),
            TensorDataType.Int32 => Copy(name, type, count, contents.IntContents),
            TensorDataType.Int64 => Copy(name, type, count, contents.Int64Contents),
            TensorDataType.UInt8 => Narrow(name, type, count, contents.UintContents, static (span, i, v) => span[i] = checked((byte)v)),
            TensorDataType.UInt16 => Narrow(name, type, count, contents.UintContents, static (span, i, v) => BinaryPrimitives.WriteUInt16LittleEndian(span[(i * 2)..], checked((ushort)v))),
            TensorDataType.UInt32 => Copy(name, type, count, contents.UintContents),
            TensorDataType.UInt64 => Copy(name, type, count, contents.Uint64Contents),
            TensorDataType.Fp32 => Copy(name, type, count, contents.Fp32Contents),
            TensorDataType.Fp64 => Copy(name, type, count, contents.Fp64Contents),
            TensorDataType.Bytes => Bytes(name, count, contents),
            _ => throw ServingException.Invalid(
                $"input '{name}' is {type.ToProtocolName()}, which has no typed contents field; send it in raw_input_contents"),
        };
    }

    private static void CheckCount(string name, TensorDataType type, long count, int actual)
    {
        if (actual != count)
        {
            throw ServingException.Invalid(
                $"input '{name}': its shape needs {count} elements but contents carries {actual} {type.ToProtocolName()} values");
        }
    }

    /// <summary>Types the field holds exactly: one copy of the repeated field's memory (little-endian on every platform .NET runs on).</summary>
    private static TensorBuffer Copy<T>(string name, TensorDataType type, long count, RepeatedField<T> values)
        where T : unmanaged
    {
        CheckCount(name, type, count, values.Count);
        var buffer = TensorBuffer.Rent(values.Count * type.ElementSize());
        var span = MemoryMarshal.Cast<byte, T>(buffer.Span);
        for (var i = 0; i < values.Count; i++)
        {
            span[i] = values[i];
        }

        return buffer;
    }

    /// <summary>Types narrower than their field: each value checked against the type's range.</summary>
    private static TensorBuffer Narrow<T>(string name, TensorDataType type, long count, RepeatedField<T> values, SpanWriter<T> write)
    {
        CheckCount(name, type, count, values.Count);
        var buffer = TensorBuffer.Rent(values.Count * type.ElementSize());
        try
        {
            var span = buffer.Span;
            for (var i = 0; i < values.Count; i++)
            {
                write(span, i, values[i]);
            }

            return buffer;
        }
        catch (OverflowException ex)
        {
            buffer.Dispose();
            throw new ServingException(FailureKind.InvalidInput, $"input '{name}': a value in contents is out of range for {type.ToProtocolName()}", ex);
        }
    }

    private static TensorBuffer Bytes(string name, long count, InferTensorContents contents)
    {
        var values = contents.BytesContents;
        CheckCount(name, TensorDataType.Bytes, count, values.Count);
        long length = 0;
        foreach (var value in values)
        {
            length += 4 + value.Length;
        }

        if (length > int.MaxValue)
        {
            throw ServingException.Invalid($"input '{name}': BYTES contents are too large");
        }

        var buffer = TensorBuffer.Rent((int)length);
        var span = buffer.Span;
        foreach (var value in values)
        {
            BinaryPrimitives.WriteInt32LittleEndian(span, value.Length);
            value.Span.CopyTo(span[4..]);
            span = span[(4 + value.Length)..];
        }

        return buffer;
    }

    private delegate void SpanWriter<in T>(Span<byte> span, int index, T value);
}
