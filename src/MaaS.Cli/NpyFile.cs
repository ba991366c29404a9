using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using MaaS.Client;

namespace MaaS.Cli;

/// <summary>NumPy's .npy format (versions 1-3, C order, little-endian): read into the binary tensor layout, and written from it.</summary>
internal static partial class NpyFile
{
    private static ReadOnlySpan<byte> Magic => [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    public static bool IsNpy(ReadOnlySpan<byte> bytes) => bytes.Length >= 6 && bytes[0] == 0x93 && bytes[1..6].SequenceEqual("NUMPY"u8);

    public static (string Datatype, long[] Shape, byte[] Data) Read(byte[] bytes, string what)
    {
        if (!IsNpy(bytes) || bytes.Length < 10)
        {
            throw new UsageException($"{what}: not a .npy file");
        }

        int headerLength, start;
        if (bytes[6] == 1)
        {
            headerLength = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(8));
            start = 10;
        }
        else if (bytes[6] is 2 or 3 && bytes.Length >= 12)
        {
            headerLength = checked((int)BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(8)));
            start = 12;
        }
        else
        {
            throw new UsageException($"{what}: .npy version {bytes[6]} is not supported");
        }

        if (start + headerLength > bytes.Length)
        {
            throw new UsageException($"{what}: the .npy header is cut short");
        }

        var header = Encoding.Latin1.GetString(bytes, start, headerLength);
        var descr = DescrPattern().Match(header);
        var shape = ShapePattern().Match(header);
        if (!descr.Success || !shape.Success)
        {
            throw new UsageException($"{what}: the .npy header has no descr or shape");
        }

        if (FortranPattern().IsMatch(header))
        {
            throw new UsageException($"{what}: Fortran-order .npy files are not supported (save with C order)");
        }

        var dims = shape.Groups[1].Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(d => long.Parse(d, CultureInfo.InvariantCulture)).ToArray();
        var payload = bytes.AsSpan(start + headerLength);
        var count = dims.Aggregate(1L, (n, d) => n * d);
        var code = descr.Groups[1].Value;
        if (code.Length > 2 && code[1] is 'S' or 'U')
        {
            return (Datatypes.Bytes, dims, ReadStrings(payload, code, count, what));
        }

        var datatype = code switch
        {
            "|b1" => Datatypes.Bool,
            "|u1" or "<u1" => Datatypes.UInt8,
            "|i1" or "<i1" => Datatypes.Int8,
            "<u2" => Datatypes.UInt16,
            "<i2" => Datatypes.Int16,
            "<u4" => Datatypes.UInt32,
            "<i4" => Datatypes.Int32,
            "<u8" => Datatypes.UInt64,
            "<i8" => Datatypes.Int64,
            "<f2" => Datatypes.Fp16,
            "<f4" => Datatypes.Fp32,
            "<f8" => Datatypes.Fp64,
            _ => throw new UsageException($"{what}: .npy dtype '{code}' is not supported (little-endian numbers, bool, S or U strings)"),
        };
        var size = Datatypes.ElementSize(datatype);
        if (payload.Length != count * size)
        {
            throw new UsageException($"{what}: {payload.Length} data bytes, shape ({string.Join(", ", dims)}) of {code} needs {count * size}");
        }

        return (datatype, dims, payload.ToArray());
    }

    public static byte[] Write(InferOutput output)
    {
        using var body = new MemoryStream();
        string descr;
        if (output.Datatype == Datatypes.Bytes)
        {
            var elements = output.GetByteElements();
            var width = Math.Max(1, elements.Count == 0 ? 1 : elements.Max(e => e.Length));
            descr = "|S" + width.ToString(CultureInfo.InvariantCulture);
            foreach (var element in elements)
            {
                body.Write(element.Span);
                body.Write(new byte[width - element.Length]);
            }
        }
        else
        {
            descr = output.Datatype switch
            {
                Datatypes.Bool => "|b1",
                Datatypes.UInt8 => "|u1",
                Datatypes.Int8 => "|i1",
                Datatypes.UInt16 => "<u2",
                Datatypes.Int16 => "<i2",
                Datatypes.UInt32 => "<u4",
                Datatypes.Int32 => "<i4",
                Datatypes.UInt64 => "<u8",
                Datatypes.Int64 => "<i8",
                Datatypes.Fp16 => "<f2",
                Datatypes.Fp32 => "<f4",
                Datatypes.Fp64 => "<f8",
                _ => throw new NotSupportedException($"{output.Datatype} has no .npy dtype"),
            };
            body.Write(output.Data.Span);
        }

        var shape = output.Shape.Count == 1 ? $"({output.Shape[0]},)" : "(" + string.Join(", ", output.Shape) + ")";
        var header = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}";
        var padded = header.PadRight(((10 + header.Length + 1 + 63) / 64 * 64) - 10 - 1) + "\n";
        using var file = new MemoryStream();
        file.Write(Magic);
        file.WriteByte(1);
        file.WriteByte(0);
        Span<byte> length = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(length, checked((ushort)padded.Length));
        file.Write(length);
        file.Write(Encoding.Latin1.GetBytes(padded));
        body.Position = 0;
        body.CopyTo(file);
        return file.ToArray();
    }

    private static byte[] ReadStrings(ReadOnlySpan<byte> payload, string code, long count, string what)
    {
        var width = int.Parse(code.AsSpan(2), CultureInfo.InvariantCulture);
        var unicode = code[1] == 'U';
        var itemSize = unicode ? width * 4 : width;
        if (payload.Length != count * itemSize)
        {
            throw new UsageException($"{what}: {payload.Length} data bytes do not hold {count} '{code}' strings");
        }

        var strings = new List<byte[]>();
        for (var i = 0; i < count; i++)
        {
            var item = payload.Slice(i * itemSize, itemSize);
            var text = unicode ? Encoding.UTF32.GetString(item).TrimEnd('\0') : Encoding.UTF8.GetString(item).TrimEnd('\0');
            strings.Add(Encoding.UTF8.GetBytes(text));
        }

        return InferInput.FromBytes("x", strings, strings.Count).Data.ToArray();
    }

    [GeneratedRegex(@"'descr'\s*:\s*'([^']+)'")]
    private static partial Regex DescrPattern();

    [GeneratedRegex(@"'shape'\s*:\s*\(([^)]*)\)")]
    private static partial Regex ShapePattern();

    [GeneratedRegex(@"'fortran_order'\s*:\s*True")]
    private static partial Regex FortranPattern();
}
