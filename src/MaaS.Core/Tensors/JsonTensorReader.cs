using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace MaaS.Core.Tensors;

/// <summary>
/// Decodes a JSON <c>data</c> value (flat or nested to any depth; only leaves count) straight into a tensor buffer,
/// with the protocol's type rules: integers for integer types (range-checked), numbers for FP32/FP64, true/false for
/// BOOL, strings for BYTES. FP16 and BF16 have no JSON form.
/// </summary>
internal static class JsonTensorReader
{
    /// <summary>
    /// Reads the value at <paramref name="reader"/> (positioned on the data token) into <paramref name="destination"/>,
    /// which holds exactly <paramref name="count"/> fixed-size elements, or for BYTES at least the value's JSON length
    /// plus 4 bytes per element. Returns the bytes written.
    /// </summary>
    public static int Read(ref Utf8JsonReader reader, TensorDataType type, long count, Span<byte> destination, string inputName)
    {
        if (type is TensorDataType.Fp16 or TensorDataType.Bf16)
        {
            throw ServingException.Invalid(
                $"input '{inputName}': {type.ToProtocolName()} data cannot be sent as JSON; use the binary tensor data extension (parameters.binary_data_size)");
        }

        long index = 0;
        var written = 0;
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            ReadLeaf(ref reader, type, ref index, count, destination, ref written, inputName);
        }
        else
        {
            var depth = 1;
            while (depth > 0 && reader.Read())
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.StartArray:
                        depth++;
                        break;
                    case JsonTokenType.EndArray:
                        depth--;
                        break;
                    default:
                        ReadLeaf(ref reader, type, ref index, count, destination, ref written, inputName);
                        break;
                }
            }
        }

        if (index != count)
        {
            throw ServingException.Invalid($"input '{inputName}': data has {index} elements but its shape needs {count}");
        }

        return written;
    }

    private static void ReadLeaf(
        ref Utf8JsonReader reader, TensorDataType type, ref long index, long count, Span<byte> destination, ref int written, string inputName)
    {
        if (index == count)
        {
            throw ServingException.Invalid($"input '{inputName}': data has more elements than its shape holds ({count})");
        }

        var i = (int)index;
        switch (type)
        {
            case TensorDataType.Bool:
                destination[i] = reader.TokenType switch
                {
                    JsonTokenType.True => 1,
                    JsonTokenType.False => 0,
                    _ => throw Unexpected(ref reader, index, inputName, type, "true or false"),
                };
                break;
            case TensorDataType.UInt8:
                destination[i] = (byte)ReadInteger(ref reader, index, inputName, type, byte.MinValue, byte.MaxValue);
                break;
            case TensorDataType.Int8:
                destination[i] = (byte)(sbyte)ReadInteger(ref reader, index, inputName, type, sbyte.MinValue, sbyte.MaxValue);
                break;
            case TensorDataType.UInt16:
                Cast<ushort>(destination)[i] = (ushort)ReadInteger(ref reader, index, inputName, type, ushort.MinValue, ushort.MaxValue);
                break;
            case TensorDataType.Int16:
                Cast<short>(destination)[i] = (short)ReadInteger(ref reader, index, inputName, type, short.MinValue, short.MaxValue);
                break;
            case TensorDataType.UInt32:
                Cast<uint>(destination)[i] = (uint)ReadInteger(ref reader, index, inputName, type, uint.MinValue, uint.MaxValue);
                break;
            case TensorDataType.Int32:
                Cast<int>(destination)[i] = (int)ReadInteger(ref reader, index, inputName, type, int.MinValue, int.MaxValue);
                break;
            case TensorDataType.Int64:
                Cast<long>(destination)[i] = ReadInteger(ref reader, index, inputName, type, long.MinValue, long.MaxValue);
                break;
            case TensorDataType.UInt64:
                Cast<ulong>(destination)[i] = ReadUInt64(ref reader, index, inputName);
                break;
            case TensorDataType.Fp32:
                Cast<float>(destination)[i] = ReadSingle(ref reader, index, inputName);
                break;
            case TensorDataType.Fp64:
                Cast<double>(destination)[i] = ReadDouble(ref reader, index, inputName);
                break;
            case TensorDataType.Bytes:
                written += ReadString(ref reader, destination[written..], index, inputName);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(type), type, null);
        }

        if (type != TensorDataType.Bytes)
        {
            written += type.ElementSize();
        }

        index++;
    }

    private static Span<T> Cast<T>(Span<byte> bytes)
        where T : struct => MemoryMarshal.Cast<byte, T>(bytes);

    private static long ReadInteger(ref Utf8JsonReader reader, long index, string inputName, TensorDataType type, long min, long max)
    {
        if (reader.TokenType != JsonTokenType.Number)
        {
            throw Unexpected(ref reader, index, inputName, type, "an integer");
        }

        if (!reader.TryGetInt64(out var value))
        {
            throw IsIntegerText(reader.ValueSpan)
                ? OutOfRange(ref reader, index, inputName, type)
                : Unexpected(ref reader, index, inputName, type, "an integer");
        }

        return value < min || value > max ? throw OutOfRange(ref reader, index, inputName, type) : value;
    }

    private static ulong ReadUInt64(ref Utf8JsonReader reader, long index, string inputName)
    {
        if (reader.TokenType == JsonTokenType.Number && reader.TryGetUInt64(out var value))
        {
            return value;
        }

        throw reader.TokenType == JsonTokenType.Number && IsIntegerText(reader.ValueSpan)
            ? OutOfRange(ref reader, index, inputName, TensorDataType.UInt64)
            : Unexpected(ref reader, index, inputName, TensorDataType.UInt64, "a non-negative integer");
    }

    private static float ReadSingle(ref Utf8JsonReader reader, long index, string inputName)
    {
        if (reader.TokenType != JsonTokenType.Number)
        {
            throw Unexpected(ref reader, index, inputName, TensorDataType.Fp32, "a number");
        }

        // JSON numbers are finite: a value that only fits as infinity is out of FP32's range.
        return reader.TryGetSingle(out var value) && float.IsFinite(value)
            ? value
            : throw OutOfRange(ref reader, index, inputName, TensorDataType.Fp32);
    }

    private static double ReadDouble(ref Utf8JsonReader reader, long index, string inputName)
    {
        if (reader.TokenType != JsonTokenType.Number)
        {
            throw Unexpected(ref reader, index, inputName, TensorDataType.Fp64, "a number");
        }

        return reader.TryGetDouble(out var value) && double.IsFinite(value)
            ? value
            : throw OutOfRange(ref reader, index, inputName, TensorDataType.Fp64);
    }

    private static int ReadString(ref Utf8JsonReader reader, Span<byte> destination, long index, string inputName)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            throw Unexpected(ref reader, index, inputName, TensorDataType.Bytes, "a string");
        }

        if (!reader.ValueIsEscaped)
        {
            return BytesElements.Write(destination, reader.ValueSpan);
        }

        // An unescaped string is never longer than its escaped JSON text, so it fits where the text would.
        int length;
        try
        {
            length = reader.CopyString(destination[4..]);
        }
        catch (InvalidOperationException ex)
        {
            throw new ServingException(
                FailureKind.InvalidInput, $"input '{inputName}': data element {index} has an escape that is not valid text (a lone surrogate)", ex);
        }


        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(destination, (uint)length);
        return 4 + length;
    }

    private static bool IsIntegerText(ReadOnlySpan<byte> number) => number.IndexOfAny(".eE"u8) < 0;

    private static ServingException Unexpected(ref Utf8JsonReader reader, long index, string inputName, TensorDataType type, string expected) =>
        ServingException.Invalid(
            $"input '{inputName}' ({type.ToProtocolName()}): data element {index} is {Describe(ref reader)}; expected {expected}");

    private static ServingException OutOfRange(ref Utf8JsonReader reader, long index, string inputName, TensorDataType type) =>
        ServingException.Invalid(
            $"input '{inputName}': data element {index} ({Describe(ref reader)}) is out of range for {type.ToProtocolName()}");

    private static string Describe(ref Utf8JsonReader reader) => reader.TokenType switch
    {
        JsonTokenType.String => "a string",
        JsonTokenType.StartObject => "an object",
        JsonTokenType.Null => "null",
        JsonTokenType.True or JsonTokenType.False => reader.TokenType == JsonTokenType.True ? "true" : "false",
        _ => Encoding.UTF8.GetString(reader.ValueSpan.Length > 64 ? reader.ValueSpan[..64] : reader.ValueSpan),
    };
}
