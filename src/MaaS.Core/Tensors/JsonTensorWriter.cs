using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace MaaS.Core.Tensors;

/// <summary>Writes tensor elements as a flat JSON array, straight from their memory, floats in shortest round-trip form.</summary>
internal static class JsonTensorWriter
{
    /// <summary>Writes the elements of a fixed-size tensor (not BYTES) held in <paramref name="data"/> as JSON values.</summary>
    public static void WriteElements(Utf8JsonWriter writer, TensorDataType type, ReadOnlySpan<byte> data)
    {
        switch (type)
        {
            case TensorDataType.Bool:
                foreach (var value in data)
                {
                    writer.WriteBooleanValue(value != 0);
                }

                break;
            case TensorDataType.UInt8:
                foreach (var value in data)
                {
                    writer.WriteNumberValue(value);
                }

                break;
            case TensorDataType.Int8:
                foreach (var value in MemoryMarshal.Cast<byte, sbyte>(data))
                {
                    writer.WriteNumberValue(value);
                }

                break;
            case TensorDataType.UInt16:
                foreach (var value in MemoryMarshal.Cast<byte, ushort>(data))
                {
                    writer.WriteNumberValue(value);
                }

                break;
            case TensorDataType.Int16:
                foreach (var value in MemoryMarshal.Cast<byte, short>(data))
                {
                    writer.WriteNumberValue(value);
                }

                break;
            case TensorDataType.UInt32:
                foreach (var value in MemoryMarshal.Cast<byte, uint>(data))
                {
                    writer.WriteNumberValue(value);
                }

                break;
            case TensorDataType.Int32:
                foreach (var value in MemoryMarshal.Cast<byte, int>(data))
                {
                    writer.WriteNumberValue(value);
                }

                break;
            case TensorDataType.UInt64:
                foreach (var value in MemoryMarshal.Cast<byte, ulong>(data))
                {
                    writer.WriteNumberValue(value);
                }

                break;
            case TensorDataType.Int64:
                foreach (var value in MemoryMarshal.Cast<byte, long>(data))
                {
                    writer.WriteNumberValue(value);
                }

                break;
            case TensorDataType.Fp32:
                foreach (var value in MemoryMarshal.Cast<byte, float>(data))
                {
                    WriteFloat(writer, value);
                }

                break;
            case TensorDataType.Fp64:
                foreach (var value in MemoryMarshal.Cast<byte, double>(data))
                {
                    if (double.IsFinite(value))
                    {
                        writer.WriteNumberValue(value);
                    }
                    else
                    {
                        WriteNonFinite(writer, value);
                    }
                }

                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(type), type, "no JSON form: FP16, BF16 and BYTES are written elsewhere");
        }
    }

    /// <summary>Writes one floating-point element (FP16 and BF16 widened to float); NaN and infinities as below.</summary>
    public static void WriteFloat(Utf8JsonWriter writer, float value)
    {
        if (float.IsFinite(value))
        {
            writer.WriteNumberValue(value);
        }
        else
        {
            WriteNonFinite(writer, value);
        }
    }

    /// <summary>Writes one BYTES element as a JSON string; bytes that are not UTF-8 are replaced by U+FFFD.</summary>
    public static void WriteString(Utf8JsonWriter writer, ReadOnlySpan<byte> element)
    {
        if (Utf8.IsValid(element))
        {
            writer.WriteStringValue(element);
        }
        else
        {
            writer.WriteStringValue(Encoding.UTF8.GetString(element));
        }
    }

    // JSON has no NaN or infinity. We write the tokens Python's json module reads and writes (NaN, Infinity,
    // -Infinity), so Python clients, tritonclient included, decode them; strict parsers should ask for binary outputs.
    private static void WriteNonFinite(Utf8JsonWriter writer, double value) =>
        writer.WriteRawValue(double.IsNaN(value) ? "NaN"u8 : value > 0 ? "Infinity"u8 : "-Infinity"u8, skipInputValidation: true);
}
