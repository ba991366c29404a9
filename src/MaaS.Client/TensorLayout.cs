using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace MaaS.Client;

/// <summary>Conversions between the binary tensor layout and V2 JSON <c>data</c>.</summary>
internal static class TensorLayout
{
    public static long CountByteElements(ReadOnlySpan<byte> data, string name)
    {
        long count = 0;
        var offset = 0;
        while (offset < data.Length)
        {
            if (data.Length - offset < 4)
            {
                throw new ArgumentException($"input '{name}': a BYTES element's length is cut short");
            }

            var length = BinaryPrimitives.ReadInt32LittleEndian(data[offset..]);
            if (length < 0 || length > data.Length - offset - 4)
            {
                throw new ArgumentException($"input '{name}': a BYTES element's length runs past the data");
            }

            offset += 4 + length;
            count++;
        }

        return count;
    }

    /// <summary>Writes the elements as a flat JSON array.</summary>
    public static void WriteJson(Utf8JsonWriter writer, string datatype, ReadOnlySpan<byte> data)
    {
        writer.WriteStartArray();
        switch (datatype)
        {
            case Datatypes.Bool:
                foreach (var b in data) writer.WriteBooleanValue(b != 0);
                break;
            case Datatypes.UInt8:
                foreach (var v in data) writer.WriteNumberValue(v);
                break;
            case Datatypes.Int8:
                foreach (var v in MemoryMarshal.Cast<byte, sbyte>(data)) writer.WriteNumberValue(v);
                break;
            case Datatypes.UInt16:
                foreach (var v in MemoryMarshal.Cast<byte, ushort>(data)) writer.WriteNumberValue(v);
                break;
            case Datatypes.Int16:
                foreach (var v in MemoryMarshal.Cast<byte, short>(data)) writer.WriteNumberValue(v);
                break;
            case Datatypes.UInt32:
                foreach (var v in MemoryMarshal.Cast<byte, uint>(data)) writer.WriteNumberValue(v);
                break;
            case Datatypes.Int32:
                foreach (var v in MemoryMarshal.Cast<byte, int>(data)) writer.WriteNumberValue(v);
                break;
            case Datatypes.UInt64:
                foreach (var v in MemoryMarshal.Cast<byte, ulong>(data)) writer.WriteNumberValue(v);
                break;
            case Datatypes.Int64:
                foreach (var v in MemoryMarshal.Cast<byte, long>(data)) writer.WriteNumberValue(v);
                break;
            case Datatypes.Fp32:
                foreach (var v in MemoryMarshal.Cast<byte, float>(data)) WriteFloat(writer, v);
                break;
            case Datatypes.Fp64:
                foreach (var v in MemoryMarshal.Cast<byte, double>(data)) WriteFloat(writer, v);
                break;
            case Datatypes.Fp16:
                foreach (var v in MemoryMarshal.Cast<byte, Half>(data)) WriteFloat(writer, (double)v);
                break;
            case Datatypes.Bytes:
                for (var offset = 0; offset < data.Length;)
                {
                    var length = BinaryPrimitives.ReadInt32LittleEndian(data[offset..]);
                    writer.WriteStringValue(Encoding.UTF8.GetString(data.Slice(offset + 4, length)));
                    offset += 4 + length;
                }

                break;
            default:
                throw new NotSupportedException(datatype + " has no JSON form");
        }

        writer.WriteEndArray();
    }

    /// <summary>Whether a datatype can travel as JSON data (the protocol has no JSON form for FP16 and BF16).</summary>
    public static bool HasJsonForm(string datatype) => datatype is not (Datatypes.Fp16 or Datatypes.Bf16);

    /// <summary>Reads JSON <c>data</c> (flat or nested) into the binary layout.</summary>
    public static byte[] ReadJson(JsonElement data, string datatype, long count)
    {
        var size = Datatypes.ElementSize(datatype);
        if (size < 0)
        {
            throw new FormatException($"'{datatype}' is no protocol datatype");
        }

        using var buffer = new MemoryStream(size == 0 ? 256 : checked((int)(count * size)));
        Span<byte> scratch = stackalloc byte[8];
        foreach (var leaf in Leaves(data))
        {
            switch (datatype)
            {
                case Datatypes.Bool: scratch[0] = leaf.GetBoolean() ? (byte)1 : (byte)0; break;
                case Datatypes.UInt8: scratch[0] = leaf.GetByte(); break;
                case Datatypes.Int8: scratch[0] = (byte)leaf.GetSByte(); break;
                case Datatypes.UInt16: BinaryPrimitives.WriteUInt16LittleEndian(scratch, leaf.GetUInt16()); break;
                case Datatypes.Int16: BinaryPrimitives.WriteInt16LittleEndian(scratch, leaf.GetInt16()); break;
                case Datatypes.UInt32: BinaryPrimitives.WriteUInt32LittleEndian(scratch, leaf.GetUInt32()); break;
                case Datatypes.Int32: BinaryPrimitives.WriteInt32LittleEndian(scratch, leaf.GetInt32()); break;
                case Datatypes.UInt64: BinaryPrimitives.WriteUInt64LittleEndian(scratch, leaf.GetUInt64()); break;
                case Datatypes.Int64: BinaryPrimitives.WriteInt64LittleEndian(scratch, leaf.GetInt64()); break;
                case Datatypes.Fp32: BinaryPrimitives.WriteSingleLittleEndian(scratch, (float)ReadFloat(leaf)); break;
                case Datatypes.Fp64: BinaryPrimitives.WriteDoubleLittleEndian(scratch, ReadFloat(leaf)); break;
                case Datatypes.Fp16: BinaryPrimitives.WriteHalfLittleEndian(scratch, (Half)ReadFloat(leaf)); break;
                case Datatypes.Bf16: BinaryPrimitives.WriteUInt16LittleEndian(scratch, (ushort)(BitConverter.SingleToUInt32Bits((float)ReadFloat(leaf)) >> 16)); break;
                case Datatypes.Bytes:
                    var text = Encoding.UTF8.GetBytes(leaf.GetString() ?? "");
                    BinaryPrimitives.WriteInt32LittleEndian(scratch, text.Length);
                    buffer.Write(scratch[..4]);
                    buffer.Write(text);
                    continue;
            }

            buffer.Write(scratch[..size]);
        }

        return buffer.ToArray();
    }

    internal static IEnumerable<JsonElement> Leaves(JsonElement element)
    {
        if (element.ValueKind != JsonValueKind.Array)
        {
            yield return element;
            yield break;
        }

        foreach (var item in element.EnumerateArray())
        {
            foreach (var leaf in Leaves(item))
            {
                yield return leaf;
            }
        }
    }

    private static double ReadFloat(JsonElement leaf) => leaf.ValueKind switch
    {
        JsonValueKind.Number => leaf.GetDouble(),
        _ => leaf.GetRawText() switch
        {
            "NaN" or "\"NaN\"" => double.NaN,
            "Infinity" or "\"Infinity\"" => double.PositiveInfinity,
            "-Infinity" or "\"-Infinity\"" => double.NegativeInfinity,
            var other => throw new FormatException($"'{other}' is not a number"),
        },
    };

    private static void WriteFloat(Utf8JsonWriter writer, double value)
    {
        if (double.IsFinite(value))
        {
            writer.WriteNumberValue(value);
        }
        else
        {
            // The tokens the server reads and writes for what JSON numbers cannot express.
            writer.WriteRawValue(double.IsNaN(value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity", skipInputValidation: true);
        }
    }

    private static void WriteFloat(Utf8JsonWriter writer, float value)
    {
        if (float.IsFinite(value))
        {
            writer.WriteNumberValue(value);
        }
        else
        {
            WriteFloat(writer, (double)value);
        }
    }

    public static string Format(long value) => value.ToString(CultureInfo.InvariantCulture);
}
