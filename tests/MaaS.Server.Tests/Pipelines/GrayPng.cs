using System.Buffers.Binary;
using System.IO.Compression;

namespace MaaS.Server.Tests.Pipelines;

/// <summary>
/// A reader of 8-bit grayscale, non-interlaced PNG files (what models/samples holds), written from the PNG
/// specification with zlib only: an independent reference for the server's SkiaSharp decoding.
/// </summary>
internal static class GrayPng
{
    public static (int Width, int Height, byte[] Pixels) Read(byte[] file)
    {
        var span = file.AsSpan();
        span[..8].ToArray().Should().Equal([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], "a PNG signature");
        int width = 0, height = 0;
        using var idat = new MemoryStream();
        for (var offset = 8; offset < file.Length;)
        {
            var length = BinaryPrimitives.ReadInt32BigEndian(span[offset..]);
            var type = System.Text.Encoding.ASCII.GetString(span.Slice(offset + 4, 4));
            var data = span.Slice(offset + 8, length);
            if (type == "IHDR")
            {
                width = BinaryPrimitives.ReadInt32BigEndian(data);
                height = BinaryPrimitives.ReadInt32BigEndian(data[4..]);
                data[8].Should().Be(8, "8-bit samples");
                data[9].Should().Be(0, "grayscale");
                data[12].Should().Be(0, "not interlaced");
            }
            else if (type == "IDAT")
            {
                idat.Write(data);
            }

            offset += 12 + length;
        }

        idat.Position = 0;
        using var zlib = new ZLibStream(idat, CompressionMode.Decompress);
        using var raw = new MemoryStream();
        zlib.CopyTo(raw);
        return (width, height, Unfilter(raw.ToArray(), width, height));
    }

    // Each scanline starts with its filter type (PNG specification, section 9), one byte per pixel here.
    private static byte[] Unfilter(byte[] raw, int width, int height)
    {
        var pixels = new byte[width * height];
        for (var y = 0; y < height; y++)
        {
            var filter = raw[y * (width + 1)];
            for (var x = 0; x < width; x++)
            {
                int value = raw[(y * (width + 1)) + 1 + x];
                int left = x > 0 ? pixels[(y * width) + x - 1] : 0;
                int up = y > 0 ? pixels[((y - 1) * width) + x] : 0;
                int upLeft = x > 0 && y > 0 ? pixels[((y - 1) * width) + x - 1] : 0;
                var predicted = filter switch
                {
                    0 => 0,
                    1 => left,
                    2 => up,
                    3 => (left + up) / 2,
                    4 => Paeth(left, up, upLeft),
                    _ => throw new InvalidDataException($"filter {filter}"),
                };
                pixels[(y * width) + x] = (byte)(value + predicted);
            }
        }

        return pixels;
    }

    private static int Paeth(int a, int b, int c)
    {
        var p = a + b - c;
        int pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }
}
