using System.Runtime.InteropServices;
using MaaS.Core.Config;
using MaaS.Core.Inference;
using MaaS.Core.Pipelines;
using MaaS.Core.Tensors;
using SkiaSharp;

namespace MaaS.Core.Tests.Pipelines;

/// <summary>
/// The image step on tiny images whose tensors are worked out by hand: channels, layout, scale, mean/std, inversion,
/// resizing and cropping, and the bounds on images, bytes and pixels.
/// </summary>
public sealed class ImageStepTests
{
    // A 2×2 RGB image, row by row: (10,20,30) (40,50,60) / (70,80,90) (100,110,120).
    private static readonly byte[][] Pixels = [[10, 20, 30], [40, 50, 60], [70, 80, 90], [100, 110, 120]];

    [Fact]
    public async Task Prepare_RgbNchwUnscaled_IsThePlanesOfTheImage()
    {
        var floats = await PrepareAsync(new ImageStepConfig { Scale = 1 }, Inner(3, 2, 2), Png(2, 2, Pixels));

        floats.Should().Equal(10, 40, 70, 100, 20, 50, 80, 110, 30, 60, 90, 120);
    }

    [Fact]
    public async Task Prepare_BgrNhwcWithMeanAndStd_IsEachPixelsChannelsReversedAndNormalised()
    {
        var config = new ImageStepConfig { Channels = "bgr", Layout = "NHWC", Scale = 0.5, Mean = [1, 2, 3], Std = [2] };

        var floats = await PrepareAsync(config, Inner(2, 2, 3), Png(2, 2, Pixels));

        var expected = Pixels.SelectMany(p => new[] { ((p[2] * 0.5f) - 1) / 2, ((p[1] * 0.5f) - 2) / 2, ((p[0] * 0.5f) - 3) / 2 });
        floats.Should().Equal(expected);
    }

    [Fact]
    public async Task Prepare_GrayInverted_IsTheInvertedLuma()
    {
        var config = new ImageStepConfig { Channels = "gray", Invert = true, Scale = 1 };

        var floats = await PrepareAsync(config, Inner(1, 2, 2), Png(2, 2, Pixels));

        var expected = Pixels.Select(p => 255 - ((0.299f * p[0]) + (0.587f * p[1]) + (0.114f * p[2]))).ToArray();
        floats.Should().Equal(expected, (a, b) => Math.Abs(a - b) < 1e-3);
    }

    [Fact]
    public async Task Prepare_LargerUniformImage_IsStretchedToTheModelsSize()
    {
        var image = Png(6, 4, Enumerable.Repeat(new byte[] { 200, 100, 50 }, 24).ToArray());

        var floats = await PrepareAsync(new ImageStepConfig { Scale = 1 }, Inner(3, 2, 3), image);

        floats.Should().Equal(Enumerable.Repeat(200f, 6).Concat(Enumerable.Repeat(100f, 6)).Concat(Enumerable.Repeat(50f, 6)));
    }

    [Fact]
    public async Task Prepare_CenterCrop_KeepsTheMiddleOfAWideImage()
    {
        // 4×2, columns black, white, white, black: covering 2×2 needs no scaling, the middle two columns remain.
        byte[] black = [0, 0, 0], white = [255, 255, 255];
        var image = Png(4, 2, [black, white, white, black, black, white, white, black]);

        var floats = await PrepareAsync(new ImageStepConfig { Channels = "gray", Resize = "center_crop", Scale = 1 }, Inner(1, 2, 2), image);

        floats.Should().OnlyContain(v => v > 254);
    }

    [Fact]
    public async Task Prepare_Base64AndDataUrl_AreTheImage()
    {
        var png = Png(2, 2, Pixels);
        var pipeline = Pipeline(new ImageStepConfig { Scale = 1 });
        using var request = Request("data:image/png;base64," + Convert.ToBase64String(png), Convert.ToBase64String(png));

        using var batch = await pipeline.PrepareAsync(request, Inner(3, 2, 2), CancellationToken.None);

        batch.Count.Should().Be(2);
        MemoryMarshal.Cast<byte, float>(batch.Floats.Span).ToArray().Should().Equal(
            [10, 40, 70, 100, 20, 50, 80, 110, 30, 60, 90, 120, 10, 40, 70, 100, 20, 50, 80, 110, 30, 60, 90, 120]);
    }

    [Fact]
    public async Task Prepare_MorePixelsThanTheBound_IsPayloadTooLarge()
    {
        var act = () => PrepareAsync(new ImageStepConfig { MaxPixels = 3 }, Inner(3, 2, 2), Png(2, 2, Pixels));

        (await act.Should().ThrowAsync<ServingException>()).Which.Should().Match<ServingException>(
            ex => ex.Kind == FailureKind.PayloadTooLarge && ex.Message.Contains("2x2 pixels", StringComparison.Ordinal) && ex.Message.Contains("max_pixels", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Prepare_MoreBytesThanTheBound_IsPayloadTooLarge()
    {
        var act = () => PrepareAsync(new ImageStepConfig { MaxBytes = 10 }, Inner(3, 2, 2), Png(2, 2, Pixels));

        (await act.Should().ThrowAsync<ServingException>()).Which.Kind.Should().Be(FailureKind.PayloadTooLarge);
    }

    [Fact]
    public async Task Prepare_MoreImagesThanTheBound_IsInvalidNamingTheBound()
    {
        var png = Convert.ToBase64String(Png(2, 2, Pixels));
        using var request = Request(png, png, png);

        var act = () => Pipeline(new ImageStepConfig { MaxImages = 2 }).PrepareAsync(request, Inner(3, 2, 2), CancellationToken.None);

        await act.Should().ThrowAsync<ServingException>().WithMessage("*takes 1 to 2 images per request, not 3*");
    }

    [Fact]
    public async Task Prepare_OneBadImageAmongGood_IsInvalidNamingIt()
    {
        var png = Convert.ToBase64String(Png(2, 2, Pixels));
        using var request = Request(png, png, Convert.ToBase64String("GIF89a-not-really"u8.ToArray()));

        var act = () => Pipeline(new ImageStepConfig()).PrepareAsync(request, Inner(3, 2, 2), CancellationToken.None);

        await act.Should().ThrowAsync<ServingException>().WithMessage("*element 2 is a Gif image; expected PNG, JPEG, WebP or BMP*");
    }

    [Theory]
    [InlineData("")]
    [InlineData("data:image/png;base64,")]
    public async Task Prepare_EmptyElement_IsInvalidSayingSo(string element)
    {
        using var request = Request(element);

        var act = () => Pipeline(new ImageStepConfig()).PrepareAsync(request, Inner(3, 2, 2), CancellationToken.None);

        await act.Should().ThrowAsync<ServingException>().WithMessage("*element 0 is empty; expected a PNG, JPEG, WebP or BMP image*");
    }

    [Fact]
    public async Task Prepare_InnerModelWithOtherChannels_IsNotReadyNamingTheMismatch()
    {
        var act = () => PrepareAsync(new ImageStepConfig { Channels = "gray" }, Inner(3, 2, 2), Png(2, 2, Pixels));

        (await act.Should().ThrowAsync<ServingException>()).Which.Should().Match<ServingException>(
            ex => ex.Kind == FailureKind.NotReady && ex.Message.Contains("does not fit its inner model", StringComparison.Ordinal));
    }

    [Fact]
    public void SignatureFor_ScoresOfTenClasses_IsImageInAndTopKClassificationOut()
    {
        var config = new PipelineConfig { InnerModel = "inner", Image = new ImageStepConfig(), Classification = new ClassificationStepConfig { TopK = 20 } };

        var signature = PipelineCatalog.SignatureFor(config, Inner(3, 2, 2));

        signature.Inputs.Should().ContainSingle().Which.Should().BeEquivalentTo(new TensorSpec("image", TensorDataType.Bytes, [-1]));
        signature.Outputs.Should().ContainSingle().Which.Should().BeEquivalentTo(new TensorSpec("classification", TensorDataType.Bytes, [-1, 10]));
    }

    private static ModelSignature Inner(long a, long b, long c) =>
        new(8, [new TensorSpec("pixels", TensorDataType.Fp32, [a, b, c])], [new TensorSpec("scores", TensorDataType.Fp32, [10])]);

    private static ImageClassificationPipeline Pipeline(ImageStepConfig image) =>
        ImageClassificationPipeline.Load("pictures", Path.Combine(Path.GetTempPath(), "no-labels-" + Guid.NewGuid().ToString("N")), new PipelineConfig
        {
            InnerModel = "inner", Image = image, Classification = new ClassificationStepConfig { Labels = null },
        });

    private static async Task<float[]> PrepareAsync(ImageStepConfig config, ModelSignature inner, byte[] image)
    {
        using var request = Request(image);
        using var batch = await Pipeline(config).PrepareAsync(request, inner, CancellationToken.None);
        return MemoryMarshal.Cast<byte, float>(batch.Floats.Span).ToArray();
    }

    private static InferRequest Request(params string[] elements) =>
        Request(elements.Select(e => System.Text.Encoding.ASCII.GetBytes(e)).ToArray());

    private static InferRequest Request(params byte[][] elements)
    {
        var buffer = TensorBuffer.Rent(elements.Sum(e => 4 + e.Length));
        var offset = 0;
        foreach (var element in elements)
        {
            BitConverter.GetBytes(element.Length).CopyTo(buffer.Span[offset..]);
            element.CopyTo(buffer.Span[(offset + 4)..]);
            offset += 4 + element.Length;
        }

        var request = new InferRequest();
        request.Inputs.Add(new InferInput("image", TensorDataType.Bytes, [elements.Length], buffer));
        return request;
    }

    /// <summary>A lossless PNG of <paramref name="width"/> × <paramref name="height"/> RGB pixels, row by row.</summary>
    private static byte[] Png(int width, int height, byte[][] pixels)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        for (var i = 0; i < pixels.Length; i++)
        {
            bitmap.SetPixel(i % width, i / width, new SKColor(pixels[i][0], pixels[i][1], pixels[i][2]));
        }

        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }
}
