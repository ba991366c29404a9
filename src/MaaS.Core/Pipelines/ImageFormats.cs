using System.Buffers.Binary;
using SkiaSharp;

namespace MaaS.Core.Pipelines;

/// <summary>The still-image formats the image step decodes (SkiaSharp's codecs), told by their bytes or media type.</summary>
public static class ImageFormats
{
    /// <summary>For messages: the formats by name.</summary>
    public const string Names = "PNG, JPEG, WebP or BMP";

    /// <summary>For messages: the media types of a raw image body.</summary>
    public const string MediaTypeNames = "image/png, image/jpeg, image/webp or image/bmp";

    private static readonly string[] MediaTypes = ["image/png", "image/jpeg", "image/webp", "image/bmp"];

    /// <summary>Whether a raw body of <paramref name="mediaType"/> is an image the step takes.</summary>
    public static bool IsSupportedMediaType(string mediaType) =>
        MediaTypes.Contains(mediaType, StringComparer.OrdinalIgnoreCase);

    /// <summary>Whether the bytes start as one of the formats does (else an element is read as base64).</summary>
    internal static bool LooksLikeImage(ReadOnlySpan<byte> bytes) =>
        bytes.StartsWith((ReadOnlySpan<byte>)[0x89, (byte)'P', (byte)'N', (byte)'G'])
        || bytes.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xD8, 0xFF])
        || (bytes.Length >= 12 && bytes.StartsWith("RIFF"u8) && bytes[8..12].SequenceEqual("WEBP"u8))
        || IsBmp(bytes);

    internal static bool IsDecoded(SKEncodedImageFormat format) =>
        format is SKEncodedImageFormat.Png or SKEncodedImageFormat.Jpeg or SKEncodedImageFormat.Webp or SKEncodedImageFormat.Bmp;

    // "BM" alone could start base64 text: the DIB header's size (one of the header versions') must follow too.
    private static bool IsBmp(ReadOnlySpan<byte> bytes) =>
        bytes.Length >= 26 && bytes.StartsWith("BM"u8)
        && BinaryPrimitives.ReadUInt32LittleEndian(bytes[14..]) is 12 or 40 or 52 or 56 or 64 or 108 or 124;
}
