using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace MaaS.Server.Tests.Infrastructure;

/// <summary>
/// Tensor elements in one comparable form, whatever they came as (reference JSON, response JSON, binary blobs, V1
/// nested arrays): double for FP16/FP32/FP64, decimal for every integer type, bool for BOOL, string for BYTES.
/// </summary>
public static class TensorValues
{
    public static bool IsFloating(string datatype) => datatype is "FP16" or "FP32" or "FP64" or "BF16";

    /// <summary>The leaves of a flat or nested JSON array (or a single JSON value), in row-major order.</summary>
    public static List<object> FromJson(JsonElement data, string datatype)
    {
        var values = new List<object>();
        AddLeaves(data, datatype, values);
        return values;
    }

    public static List<object> Of(ReferenceTensor tensor) => FromJson(tensor.Data, tensor.Datatype);

    /// <summary>Decodes binary tensor data: little-endian elements, BOOL one byte, BYTES 4-byte length-prefixed.</summary>
    public static List<object> FromBinary(ReadOnlySpan<byte> bytes, string datatype)
    {
        var values = new List<object>();
        if (datatype == "BYTES")
        {
            while (!bytes.IsEmpty)
            {
                var length = (int)BinaryPrimitives.ReadUInt32LittleEndian(bytes);
                values.Add(Encoding.UTF8.GetString(bytes.Slice(4, length)));
                bytes = bytes[(4 + length)..];
            }

            return values;
        }

        var size = ElementSize(datatype);
        bytes.Length.Should().Be(bytes.Length / size * size, "{0} data is a whole number of {1}-byte elements", datatype, size);
        for (var offset = 0; offset < bytes.Length; offset += size)
        {
            var element = bytes.Slice(offset, size);
            values.Add(datatype switch
            {
                "BOOL" => element[0] != 0,
                "UINT8" => (decimal)element[0],
                "INT8" => (decimal)(sbyte)element[0],
                "UINT16" => (decimal)BinaryPrimitives.ReadUInt16LittleEndian(element),
                "INT16" => (decimal)BinaryPrimitives.ReadInt16LittleEndian(element),
                "UINT32" => (decimal)BinaryPrimitives.ReadUInt32LittleEndian(element),
                "INT32" => (decimal)BinaryPrimitives.ReadInt32LittleEndian(element),
                "UINT64" => (decimal)BinaryPrimitives.ReadUInt64LittleEndian(element),
                "INT64" => (decimal)BinaryPrimitives.ReadInt64LittleEndian(element),
                "FP16" => (double)BitConverter.UInt16BitsToHalf(BinaryPrimitives.ReadUInt16LittleEndian(element)),
                "FP32" => (double)BinaryPrimitives.ReadSingleLittleEndian(element),
                "FP64" => BinaryPrimitives.ReadDoubleLittleEndian(element),
                _ => throw new ArgumentOutOfRangeException(nameof(datatype), datatype, null),
            });
        }

        return values;
    }

    /// <summary>The binary form of a reference tensor, as tritonclient.http sends it (numpy's tobytes / serialize_byte_tensor).</summary>
    public static byte[] ToBinary(ReferenceTensor tensor)
    {
        using var stream = new MemoryStream();
        Span<byte> element = stackalloc byte[8];
        foreach (var value in Of(tensor))
        {
            if (tensor.Datatype == "BYTES")
            {
                var utf8 = Encoding.UTF8.GetBytes((string)value);
                BinaryPrimitives.WriteUInt32LittleEndian(element, (uint)utf8.Length);
                stream.Write(element[..4]);
                stream.Write(utf8);
                continue;
            }

            var size = ElementSize(tensor.Datatype);
            switch (tensor.Datatype)
            {
                case "BOOL": element[0] = (bool)value ? (byte)1 : (byte)0; break;
                case "UINT8": element[0] = (byte)(decimal)value; break;
                case "INT8": element[0] = (byte)(sbyte)(decimal)value; break;
                case "UINT16": BinaryPrimitives.WriteUInt16LittleEndian(element, (ushort)(decimal)value); break;
                case "INT16": BinaryPrimitives.WriteInt16LittleEndian(element, (short)(decimal)value); break;
                case "UINT32": BinaryPrimitives.WriteUInt32LittleEndian(element, (uint)(decimal)value); break;
                case "INT32": BinaryPrimitives.WriteInt32LittleEndian(element, (int)(decimal)value); break;
                case "UINT64": BinaryPrimitives.WriteUInt64LittleEndian(element, (ulong)(decimal)value); break;
                case "INT64": BinaryPrimitives.WriteInt64LittleEndian(element, (long)(decimal)value); break;
                case "FP16": BinaryPrimitives.WriteUInt16LittleEndian(element, BitConverter.HalfToUInt16Bits((Half)(double)value)); break;
                case "FP32": BinaryPrimitives.WriteSingleLittleEndian(element, (float)(double)value); break;
                case "FP64": BinaryPrimitives.WriteDoubleLittleEndian(element, (double)value); break;
                default: throw new ArgumentOutOfRangeException(nameof(tensor), tensor.Datatype, null);
            }

            stream.Write(element[..size]);
        }

        return stream.ToArray();
    }

    /// <summary>
    /// Asserts that <paramref name="actual"/> holds the reference's elements: within <paramref name="tolerance"/> for
    /// floating types, exactly for integers, booleans and strings. Floating values are compared at the datatype's own
    /// precision, so that a JSON number in shortest form (3.4028235E+38 for FP32's largest value) matches the
    /// reference's exact double (3.4028234663852886e+38).
    /// </summary>
    public static void ShouldMatch(this IReadOnlyList<object> actual, ReferenceTensor expected, double tolerance)
    {
        var reference = Of(expected);
        if (IsFloating(expected.Datatype))
        {
            actual.Select(value => AtPrecision(Convert.ToDouble(value, CultureInfo.InvariantCulture), expected.Datatype)).Should().Equal(
                reference.Cast<double>().Select(value => AtPrecision(value, expected.Datatype)),
                (a, e) => Math.Abs(a - e) <= tolerance,
                "output '{0}' should match the reference within {1}",
                expected.Name,
                tolerance);
        }
        else
        {
            actual.Should().Equal(reference, "output '{0}' should equal the reference exactly", expected.Name);
        }
    }

    private static double AtPrecision(double value, string datatype) => datatype switch
    {
        "FP32" => (float)value,
        "FP16" => (double)(Half)value,
        _ => value,
    };

    /// <summary>Absolute tolerance against the reference: 1e-4, or 1e-2 for half precision.</summary>
    public static double Tolerance(string datatype) => datatype is "FP16" or "BF16" ? 1e-2 : 1e-4;

    private static void AddLeaves(JsonElement element, string datatype, List<object> values)
    {
        if (element.ValueKind == JsonValueKind.Array)
        {
            foreach (var child in element.EnumerateArray())
            {
                AddLeaves(child, datatype, values);
            }

            return;
        }

        values.Add(datatype switch
        {
            "BOOL" => element.GetBoolean(),
            "BYTES" => element.GetString()!,
            _ when IsFloating(datatype) => element.GetDouble(),
            _ => element.GetDecimal(),
        });
    }

    private static int ElementSize(string datatype) => datatype switch
    {
        "BOOL" or "UINT8" or "INT8" => 1,
        "UINT16" or "INT16" or "FP16" or "BF16" => 2,
        "UINT32" or "INT32" or "FP32" => 4,
        "UINT64" or "INT64" or "FP64" => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(datatype), datatype, null),
    };
}
