using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Google.Protobuf.Collections;
using Inference;
using MaaS.Core;
using MaaS.Core.Tensors;

namespace MaaS.Server.Endpoints.Grpc;

/// <summary>
/// An input's typed <see cref="InferTensorContents"/> (the repeated field of its datatype) as the little-endian bytes the
/// model reads. The fields are Triton's: BOOL in bool_contents, INT8/INT16/INT32 in int_contents, INT64 in
/// int64_contents, UINT8/UINT16/UINT32 in uint_contents, UINT64 in uint64_contents, FP32 in fp32_contents, FP64 in
/// fp64_contents, BYTES in bytes_contents; FP16 and BF16 have no typed field and must come raw. As in Triton, values in a
/// field of another datatype are refused. Unlike Triton, which keeps the low bytes of a value too wide for INT8, INT16,
/// UINT8 or UINT16, such a value is refused with its position, so that a client's mistake does not become other data.
/// </summary>
internal static class GrpcTensorContents
{
    public static TensorBuffer Decode(string name, TensorDataType type, long count, InferTensorContents? contents)
    {
        contents ??= new InferTensorContents();
        var field = FieldName(type) ?? throw ServingException.Invalid(
            $"input '{name}' is {type.ToProtocolName()}, which has no typed contents field; send it in raw_input_contents");
        CheckNoOtherField(name, type, field, contents);
        return type switch
        {
            TensorDataType.Bool => Narrow(name, type, field, count, contents.BoolContents, static (span, i, v) => span[i] = v ? (byte)1 : (byte)0, static _ => true),
            TensorDataType.Int8 => Narrow(name, type, field, count, contents.IntContents, static (span, i, v) => span[i] = (byte)(sbyte)v, static v => v is >= sbyte.MinValue and <= sbyte.MaxValue),
            TensorDataType.Int16 => Narrow(name, type, field, count, contents.IntContents, static (span, i, v) => BinaryPrimitives.WriteInt16LittleEndian(span[(i * 2)..], (short)v), static v => v is >= short.MinValue and <= short.MaxValue),
            TensorDataType.Int32 => Copy(name, type, field, count, contents.IntContents),
            TensorDataType.Int64 => Copy(name, type, field, count, contents.Int64Contents),
            TensorDataType.UInt8 => Narrow(name, type, field, count, contents.UintContents, static (span, i, v) => span[i] = (byte)v, static v => v <= byte.MaxValue),
            TensorDataType.UInt16 => Narrow(name, type, field, count, contents.UintContents, static (span, i, v) => BinaryPrimitives.WriteUInt16LittleEndian(span[(i * 2)..], (ushort)v), static v => v <= ushort.MaxValue),
            TensorDataType.UInt32 => Copy(name, type, field, count, contents.UintContents),
            TensorDataType.UInt64 => Copy(name, type, field, count, contents.Uint64Contents),
            TensorDataType.Fp32 => Copy(name, type, field, count, contents.Fp32Contents),
            TensorDataType.Fp64 => Copy(name, type, field, count, contents.Fp64Contents),
            TensorDataType.Bytes => Bytes(name, field, count, contents),
            _ => throw new InvalidOperationException($"{type} has a contents field but no decoder"),
        };
    }

    /// <summary>The typed field that carries <paramref name="type"/>, or null when it has none.</summary>
    public static string? FieldName(TensorDataType type) => type switch
    {
        TensorDataType.Bool => "bool_contents",
        TensorDataType.Int8 or TensorDataType.Int16 or TensorDataType.Int32 => "int_contents",
        TensorDataType.Int64 => "int64_contents",
        TensorDataType.UInt8 or TensorDataType.UInt16 or TensorDataType.UInt32 => "uint_contents",
        TensorDataType.UInt64 => "uint64_contents",
        TensorDataType.Fp32 => "fp32_contents",
        TensorDataType.Fp64 => "fp64_contents",
        TensorDataType.Bytes => "bytes_contents",
        _ => null,
    };

    private static void CheckNoOtherField(string name, TensorDataType type, string field, InferTensorContents contents)
    {
        var other =
            contents.BoolContents.Count > 0 && field != "bool_contents" ? "bool_contents"
            : contents.IntContents.Count > 0 && field != "int_contents" ? "int_contents"
            : contents.Int64Contents.Count > 0 && field != "int64_contents" ? "int64_contents"
            : contents.UintContents.Count > 0 && field != "uint_contents" ? "uint_contents"
            : contents.Uint64Contents.Count > 0 && field != "uint64_contents" ? "uint64_contents"
            : contents.Fp32Contents.Count > 0 && field != "fp32_contents" ? "fp32_contents"
            : contents.Fp64Contents.Count > 0 && field != "fp64_contents" ? "fp64_contents"
            : contents.BytesContents.Count > 0 && field != "bytes_contents" ? "bytes_contents"
            : null;
        if (other is not null)
        {
            throw ServingException.Invalid(
                $"input '{name}' is {type.ToProtocolName()}, whose values go in contents.{field}, but the request sets contents.{other}");
        }
    }

    private static void CheckCount(string name, string field, long count, int actual)
    {
        if (actual != count)
        {
            throw ServingException.Invalid(
                $"input '{name}': its shape needs {count} elements but contents.{field} carries {actual} values");
        }
    }

    /// <summary>Types the field holds exactly: one copy of the repeated field's memory (little-endian on every platform .NET runs on).</summary>
    private static TensorBuffer Copy<T>(string name, TensorDataType type, string field, long count, RepeatedField<T> values)
        where T : unmanaged
    {
        CheckCount(name, field, count, values.Count);
        var buffer = TensorBuffer.Rent(values.Count * type.ElementSize());
        var span = MemoryMarshal.Cast<byte, T>(buffer.Span);
        for (var i = 0; i < values.Count; i++)
        {
            span[i] = values[i];
        }

        return buffer;
    }

    /// <summary>Types narrower than their field: every value is checked against the type's range before anything is written.</summary>
    private static TensorBuffer Narrow<T>(
        string name, TensorDataType type, string field, long count, RepeatedField<T> values, SpanWriter<T> write, Func<T, bool> inRange)
    {
        CheckCount(name, field, count, values.Count);
        for (var i = 0; i < values.Count; i++)
        {
            if (!inRange(values[i]))
            {
                throw ServingException.Invalid(
                    $"input '{name}': contents.{field} element {i} ({values[i]}) is out of range for {type.ToProtocolName()}");
            }
        }

        var buffer = TensorBuffer.Rent(values.Count * type.ElementSize());
        var span = buffer.Span;
        for (var i = 0; i < values.Count; i++)
        {
            write(span, i, values[i]);
        }

        return buffer;
    }

    private static TensorBuffer Bytes(string name, string field, long count, InferTensorContents contents)
    {
        var values = contents.BytesContents;
        CheckCount(name, field, count, values.Count);
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
