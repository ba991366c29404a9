using System.Runtime.InteropServices;
using MaaS.Core.Config;
using MaaS.Core.Inference;
using MaaS.Core.Tensors;
using SkiaSharp;

namespace MaaS.Core.Pipelines;

/// <summary>
/// The image step: PNG, JPEG, WebP or BMP bytes → RGBA pixels (SkiaSharp) → the inner model's height and width (stretched, or
/// scaled to cover and cropped in the middle) → gray, RGB or BGR channels → <c>(v · scale − mean) / std</c>, written
/// as FP32 in NCHW or NHWC order. Immutable; images decode in parallel.
/// </summary>
internal sealed class ImageStep(string pipelineName, string innerModel, ImageStepConfig config)
{
    public const int DefaultMaxImages = 64;
    public const long DefaultMaxBytes = 16 << 20;
    public const long DefaultMaxPixels = 1 << 24;

    // Linear filtering between mipmap levels: smooth when enlarging, and averaging (not skipping) pixels when
    // shrinking a photo to a model's size.
    private static readonly SKSamplingOptions Sampling = new(SKFilterMode.Linear, SKMipmapMode.Linear);

    private readonly bool _gray = config.Channels == "gray";
    private readonly bool _bgr = config.Channels == "bgr";
    private readonly bool _nhwc = config.Layout == "NHWC";
    private readonly bool _crop = config.Resize == "center_crop";
    private readonly bool _invert = config.Invert ?? false;
    private readonly float _scale = (float)(config.Scale ?? 1.0 / 255);
    private readonly float[] _mean = PerChannel(config.Mean, 0, config.Channels == "gray" ? 1 : 3);
    private readonly float[] _std = PerChannel(config.Std, 1, config.Channels == "gray" ? 1 : 3);

    public int MaxImages { get; } = config.MaxImages ?? DefaultMaxImages;

    public long MaxBytes { get; } = config.MaxBytes ?? DefaultMaxBytes;

    public long MaxPixels { get; } = config.MaxPixels ?? DefaultMaxPixels;

    private int Channels => _gray ? 1 : 3;

    /// <summary>
    /// Where the images go in <paramref name="inner"/>: its FP32 input, fixed height and width, the configured channel
    /// count, and how many images one run takes. A mismatch is the pipeline's configuration fault: 503 with the reason.
    /// </summary>
    public ImageGeometry GeometryOf(ModelSignature inner)
    {
        TensorSpec? spec = null;
        if (config.Input is { } name ? !inner.TryGetInput(name, out spec) : inner.Inputs.Count != 1)
        {
            throw Unfit(config.Input is null
                ? $"it has {inner.Inputs.Count} inputs; set pipeline.image.input to the image one"
                : $"it has no input '{config.Input}'");
        }

        spec ??= inner.Inputs[0];
        var dims = spec.Dims;
        var batched = inner.MaxBatchSize > 0;
        if (!batched)
        {
            // Without max_batch_size the batch dimension is the input's own first one: any size (-1) or 1.
            dims = dims.Length == 4 && dims[0] is -1 or 1 ? dims[1..] : [];
        }

        if (spec.DataType != TensorDataType.Fp32 || dims.Length != 3)
        {
            throw Unfit($"its input '{spec.Name}' is {spec.DataType.ToProtocolName()} {TensorShape.Format(spec.Dims)}; the image step writes FP32 [batch, {(_nhwc ? "height, width, channels" : "channels, height, width")}]");
        }

        var (channels, height, width) = _nhwc ? (dims[2], dims[0], dims[1]) : (dims[0], dims[1], dims[2]);
        if (channels != Channels || height <= 0 || width <= 0)
        {
            throw Unfit($"its input '{spec.Name}' is {TensorShape.Format(spec.Dims)} ({(_nhwc ? "NHWC" : "NCHW")}); the image step needs a fixed height and width and {Channels} channel{(Channels == 1 ? string.Empty : "s")} ({config.Channels ?? "rgb"})");
        }

        var chunk = batched ? inner.MaxBatchSize : spec.Dims[0] == 1 ? 1 : int.MaxValue;
        return new ImageGeometry(spec.Name, _nhwc, Channels, (int)height, (int)width, chunk);
    }

    /// <summary>Decodes image <paramref name="index"/> into <paramref name="target"/> (height × width × channels floats).</summary>
    public void Write(ReadOnlySpan<byte> encoded, int index, ImageGeometry geometry, Span<float> target)
    {
        using var data = SKData.CreateCopy(encoded);
        using var codec = Open(data, index);
        var info = new SKImageInfo(codec.Info.Width, codec.Info.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        using var decoded = new SKBitmap(info);
        var result = codec.GetPixels(info, decoded.GetPixels());
        if (result != SKCodecResult.Success)
        {
            throw ServingException.Invalid($"input '{ImageClassificationPipeline.ImageInput}' element {index} cannot be decoded: {Describe(result)}");
        }

        using var oriented = Orient(decoded, codec.EncodedOrigin);
        var upright = oriented ?? decoded;
        if (upright.Width == geometry.Width && upright.Height == geometry.Height)
        {
            Fill(upright, geometry, target);
            return;
        }

        using var sized = Resize(upright, geometry.Width, geometry.Height);
        Fill(sized, geometry, target);
    }

    /// <summary>
    /// The pixels turned as the image's EXIF orientation says they are to be seen (a camera's JPEG stores them as the
    /// sensor read them); null when they already are. A permutation of the pixels: nothing is resampled.
    /// </summary>
    private static SKBitmap? Orient(SKBitmap stored, SKEncodedOrigin origin)
    {
        if (origin is <= SKEncodedOrigin.TopLeft or > SKEncodedOrigin.LeftBottom)
        {
            return null;
        }

        var (w, h) = (stored.Width, stored.Height);
        var swap = origin >= SKEncodedOrigin.LeftTop;
        var oriented = new SKBitmap(new SKImageInfo(swap ? h : w, swap ? w : h, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        var source = MemoryMarshal.Cast<byte, uint>(stored.GetPixelSpan());
        var target = MemoryMarshal.Cast<byte, uint>(oriented.GetPixelSpan());
        var (sourceStride, targetStride) = (stored.RowBytes / 4, oriented.RowBytes / 4);
        for (var y = 0; y < h; y++)
        {
            for (var x = 0; x < w; x++)
            {
                var (tx, ty) = origin switch
                {
                    SKEncodedOrigin.TopRight => (w - 1 - x, y),
                    SKEncodedOrigin.BottomRight => (w - 1 - x, h - 1 - y),
                    SKEncodedOrigin.BottomLeft => (x, h - 1 - y),
                    SKEncodedOrigin.LeftTop => (y, x),
                    SKEncodedOrigin.RightTop => (h - 1 - y, x),
                    SKEncodedOrigin.RightBottom => (h - 1 - y, w - 1 - x),
                    _ => (y, w - 1 - x), // LeftBottom
                };
                target[(ty * targetStride) + tx] = source[(y * sourceStride) + x];
            }
        }

        return oriented;
    }

    private SKCodec Open(SKData data, int index)
    {
        var codec = SKCodec.Create(data)
            ?? throw ServingException.Invalid($"input '{ImageClassificationPipeline.ImageInput}' element {index} is not a {ImageFormats.Names} image");
        var format = codec.EncodedFormat;
        var info = codec.Info;
        if (!ImageFormats.IsDecoded(format))
        {
            codec.Dispose();
            throw ServingException.Invalid($"input '{ImageClassificationPipeline.ImageInput}' element {index} is a {format} image; expected {ImageFormats.Names}");
        }

        if ((long)info.Width * info.Height > MaxPixels)
        {
            codec.Dispose();
            throw new ServingException(
                FailureKind.PayloadTooLarge,
                $"input '{ImageClassificationPipeline.ImageInput}' element {index} is {info.Width}x{info.Height} pixels; model '{pipelineName}' takes at most {MaxPixels} pixels per image (pipeline.image.max_pixels)");
        }

        return codec;
    }

    private static string Describe(SKCodecResult result) => result switch
    {
        SKCodecResult.IncompleteInput or SKCodecResult.ErrorInInput => "the data is truncated or corrupt",
        _ => result.ToString(),
    };

    /// <summary>Stretched to the size, or (center_crop) the middle of the image scaled to cover it.</summary>
    private SKBitmap Resize(SKBitmap source, int width, int height)
    {
        var target = new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        if (!_crop)
        {
            return source.Resize(target, Sampling) ?? throw new InvalidOperationException("SkiaSharp could not resize the image");
        }

        var cover = Math.Max((double)width / source.Width, (double)height / source.Height);
        var cropWidth = Math.Clamp((int)Math.Round(width / cover), 1, source.Width);
        var cropHeight = Math.Clamp((int)Math.Round(height / cover), 1, source.Height);
        var left = (source.Width - cropWidth) / 2;
        var top = (source.Height - cropHeight) / 2;
        using var middle = new SKBitmap();
        if (!source.ExtractSubset(middle, new SKRectI(left, top, left + cropWidth, top + cropHeight)))
        {
            throw new InvalidOperationException("SkiaSharp could not crop the image");
        }

        return middle.Resize(target, Sampling) ?? throw new InvalidOperationException("SkiaSharp could not resize the image");
    }

    private void Fill(SKBitmap bitmap, ImageGeometry geometry, Span<float> target)
    {
        var pixels = bitmap.GetPixelSpan();
        var rowBytes = bitmap.RowBytes;
        var (height, width, channels) = (geometry.Height, geometry.Width, geometry.Channels);
        var plane = height * width;
        for (var y = 0; y < height; y++)
        {
            var row = pixels.Slice(y * rowBytes, width * 4);
            for (var x = 0; x < width; x++)
            {
                // Alpha is ignored (a transparent pixel keeps its colour), as PIL's convert("RGB") does.
                float r = row[x * 4], g = row[(x * 4) + 1], b = row[(x * 4) + 2];
                var pixel = (y * width) + x;
                if (_gray)
                {
                    // ITU-R 601 luma, as PIL's convert("L"): a gray image's own values come through unchanged.
                    target[pixel] = Normalize((0.299f * r) + (0.587f * g) + (0.114f * b), 0);
                    continue;
                }

                var (first, third) = _bgr ? (b, r) : (r, b);
                target[_nhwc ? pixel * 3 : pixel] = Normalize(first, 0);
                target[_nhwc ? (pixel * 3) + 1 : plane + pixel] = Normalize(g, 1);
                target[_nhwc ? (pixel * 3) + 2 : (2 * plane) + pixel] = Normalize(third, 2);
            }
        }
    }

    private float Normalize(float value, int channel) =>
        (((_invert ? 255 - value : value) * _scale) - _mean[channel]) / _std[channel];

    private static float[] PerChannel(double[]? values, double fallback, int channels) =>
        Enumerable.Range(0, channels).Select(c => (float)(values is null ? fallback : values[values.Length == 1 ? 0 : c])).ToArray();

    private ServingException Unfit(string reason) =>
        new(FailureKind.NotReady, $"pipeline model '{pipelineName}' does not fit its inner model '{innerModel}': {reason}");
}
