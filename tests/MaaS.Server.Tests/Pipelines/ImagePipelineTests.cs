using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using MaaS.Server.Tests.Infrastructure;
using SkiaSharp;

namespace MaaS.Server.Tests.Pipelines;

/// <summary>
/// The bundled <c>digits</c> model: an image-classification pipeline over the trained <c>cnn</c> (gray 28×28, /255,
/// softmax, top 3, labels 0..9), fed the sample digits in every form a client sends them.
/// </summary>
public sealed class ImagePipelineTests(MaaSApplication app) : IClassFixture<MaaSApplication>
{
    private const string Digits = "digits";

    private static byte[] Sample(int digit) => File.ReadAllBytes(Path.Combine(RepositoryPaths.Models, "samples", $"digit-{digit}.png"));

    [Fact]
    public async Task Infer_RawPngOfEverySampleDigit_TopClassIsTheDigit()
    {
        using var client = await app.CreateReadyClientAsync();
        for (var digit = 0; digit < 10; digit++)
        {
            var classes = await ClassifyRawAsync(client, Sample(digit), "image/png");

            classes.Should().HaveCount(3);
            classes[0].Index.Should().Be(digit);
            classes[0].Label.Should().Be(digit.ToString(CultureInfo.InvariantCulture));
            classes[0].Score.Should().BeGreaterThan(0.5, "digit {0} should be classified with confidence", digit);
            classes.Select(c => c.Score).Should().BeInDescendingOrder();
        }
    }

    [Fact]
    public async Task Infer_CurlExample_AnswersV2JsonWithTheTop3()
    {
        using var client = await app.CreateReadyClientAsync();
        using var content = new ByteArrayContent(await File.ReadAllBytesAsync(Path.Combine(RepositoryPaths.Models, "samples", "seven.png")));
        content.Headers.ContentType = new MediaTypeHeaderValue("image/png");
        using var response = await client.PostAsync(V2Requests.InferUri(Digits), content);

        var text = await response.Content.ReadAsStringAsync();
        response.StatusCode.Should().Be(HttpStatusCode.OK, text);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/json");
        using var document = JsonDocument.Parse(text);
        document.RootElement.GetProperty("model_name").GetString().Should().Be(Digits);
        var output = document.RootElement.GetProperty("outputs")[0];
        output.GetProperty("name").GetString().Should().Be("classification");
        output.GetProperty("datatype").GetString().Should().Be("BYTES");
        output.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()).Should().Equal(1, 3);
        output.GetProperty("data")[0].GetString().Should().MatchRegex(@"^[01]\.\d{6}:7:7$");
    }

    [Fact]
    public async Task Infer_SampleDigitsAsTritonBinaryBytes_MatchTheCnnsTensorPathBuiltByHand()
    {
        using var client = await app.CreateReadyClientAsync();
        var images = Enumerable.Range(0, 10).Select(Sample).ToArray();

        // The tensor path: each PNG decoded here (zlib and the PNG filters, no SkiaSharp), /255, [10, 1, 28, 28] to cnn.
        var pixels = images.SelectMany(image =>
        {
            var (width, height, values) = GrayPng.Read(image);
            (width, height).Should().Be((28, 28));
            return values.Select(v => v / 255f);
        }).ToArray();
        var tensor = new JsonObject { ["inputs"] = new JsonArray(V2Requests.JsonInput("image", "FP32", [10, 1, 28, 28], new JsonArray(pixels.Select(p => (JsonNode)p).ToArray()))) };
        using var cnn = await client.PostAsync(V2Requests.InferUri("cnn"), V2Requests.Json(tensor));
        cnn.StatusCode.Should().Be(HttpStatusCode.OK);
        using var logits = JsonDocument.Parse(await cnn.Content.ReadAsStringAsync());
        var scores = logits.RootElement.GetProperty("outputs")[0].GetProperty("data").EnumerateArray().Select(v => v.GetDouble()).ToArray();

        // The pipeline: the same PNG files as BYTES elements in the binary extension, as tritonclient sends them.
        var blob = images.SelectMany(image => BitConverter.GetBytes(image.Length).Concat(image)).ToArray();
        var header = new JsonObject { ["inputs"] = new JsonArray(V2Requests.BinaryInput("image", "BYTES", [10], blob.Length)) };
        using var message = V2Requests.Binary(V2Requests.InferUri(Digits), header, [blob]);
        using var response = await client.SendAsync(message);
        var text = await response.Content.ReadAsStringAsync();
        response.StatusCode.Should().Be(HttpStatusCode.OK, text);
        var classified = Classes(text);

        classified.Should().HaveCount(30);
        for (var image = 0; image < 10; image++)
        {
            var row = scores.AsSpan(image * 10, 10).ToArray();
            var probabilities = row.Select(s => Math.Exp(s - row.Max())).ToArray();
            var sum = probabilities.Sum();
            var expected = probabilities.Select((p, index) => (Probability: p / sum, Index: index)).OrderByDescending(p => p.Probability).Take(3).ToList();
            for (var rank = 0; rank < 3; rank++)
            {
                var actual = classified[(image * 3) + rank];
                actual.Index.Should().Be(expected[rank].Index, "image {0} rank {1}", image, rank);
                actual.Score.Should().BeApproximately(expected[rank].Probability, 2e-6, "image {0} rank {1}", image, rank);
            }
        }
    }

    [Fact]
    public async Task Infer_Jpeg_IsClassifiedLikeThePng()
    {
        using var client = await app.CreateReadyClientAsync();
        using var bitmap = SKBitmap.Decode(Sample(3));
        using var jpeg = bitmap.Encode(SKEncodedImageFormat.Jpeg, 100);

        var classes = await ClassifyRawAsync(client, jpeg.ToArray(), "image/jpeg");

        classes[0].Index.Should().Be(3);
    }

    [Fact]
    public async Task Infer_WebpAndBmp_AreClassifiedLikeThePng()
    {
        using var client = await app.CreateReadyClientAsync();
        for (var digit = 0; digit < 10; digit += 3)
        {
            using var bitmap = SKBitmap.Decode(Sample(digit));
            using var webp = bitmap.Encode(SKEncodedImageFormat.Webp, 100);
            var png = await ClassifyRawAsync(client, Sample(digit), "image/png");

            var fromWebp = await ClassifyRawAsync(client, webp.ToArray(), "image/webp");
            var fromBmp = await ClassifyRawAsync(client, Bmp(bitmap), "image/bmp");

            fromWebp[0].Index.Should().Be(digit);
            fromWebp[0].Score.Should().BeApproximately(png[0].Score, 1e-4, "WebP at quality 100 is lossless");
            fromBmp.Should().Equal(png, "a BMP holds the same pixels");
        }
    }

    [Fact]
    public async Task Infer_Base64Bmp_IsTakenAsAnImageOnlyWithItsHeader()
    {
        using var client = await app.CreateReadyClientAsync();
        using var bitmap = SKBitmap.Decode(Sample(4));
        var body = new JsonObject
        {
            ["inputs"] = new JsonArray(new JsonObject
            {
                ["name"] = "image", ["datatype"] = "BYTES", ["shape"] = new JsonArray(1), ["data"] = new JsonArray(Convert.ToBase64String(Bmp(bitmap))),
            }),
        };

        using var response = await client.PostAsync(V2Requests.InferUri(Digits), new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"));

        response.StatusCode.Should().Be(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Parse(document.RootElement.GetProperty("outputs")[0].GetProperty("data")[0].GetString()!).Index.Should().Be(4);
    }

    /// <summary>A 24-bit BMP (BITMAPINFOHEADER, rows bottom-up, padded to 4 bytes) of the bitmap's colours.</summary>
    private static byte[] Bmp(SKBitmap bitmap)
    {
        var (w, h) = (bitmap.Width, bitmap.Height);
        var rowBytes = ((w * 3) + 3) / 4 * 4;
        var bmp = new byte[54 + (rowBytes * h)];
        "BM"u8.CopyTo(bmp);
        BitConverter.TryWriteBytes(bmp.AsSpan(2), bmp.Length);
        BitConverter.TryWriteBytes(bmp.AsSpan(10), 54);
        BitConverter.TryWriteBytes(bmp.AsSpan(14), 40);
        BitConverter.TryWriteBytes(bmp.AsSpan(18), w);
        BitConverter.TryWriteBytes(bmp.AsSpan(22), h);
        BitConverter.TryWriteBytes(bmp.AsSpan(26), (short)1);
        BitConverter.TryWriteBytes(bmp.AsSpan(28), (short)24);
        for (var y = 0; y < h; y++)
        {
            var row = 54 + ((h - 1 - y) * rowBytes);
            for (var x = 0; x < w; x++)
            {
                var color = bitmap.GetPixel(x, y);
                (bmp[row + (x * 3)], bmp[row + (x * 3) + 1], bmp[row + (x * 3) + 2]) = (color.Blue, color.Green, color.Red);
            }
        }

        return bmp;
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    [InlineData(7)]
    [InlineData(8)]
    public async Task Infer_JpegWithExifOrientation_IsTurnedUprightFirst(int orientation)
    {
        using var client = await app.CreateReadyClientAsync();
        using var upright = SKBitmap.Decode(Sample(7));
        using var stored = StoredAs(upright, orientation);
        var expected = await ClassifyRawAsync(client, Jpeg(upright), "image/jpeg");

        var classes = await ClassifyRawAsync(client, WithExifOrientation(Jpeg(stored), orientation), "image/jpeg");

        classes[0].Index.Should().Be(7, "orientation {0} turns the stored pixels back to the upright digit", orientation);
        classes[0].Score.Should().BeApproximately(expected[0].Score, 0.02);
    }

    /// <summary>
    /// The pixels a camera stores for an upright picture <paramref name="upright"/> whose EXIF orientation is
    /// <paramref name="orientation"/> (TIFF 6.0's Orientation tag: where row 0 and column 0 of the stored image are
    /// seen), so that turning them as the tag says shows <paramref name="upright"/>.
    /// </summary>
    private static SKBitmap StoredAs(SKBitmap upright, int orientation)
    {
        var (w, h) = (upright.Width, upright.Height);
        var swap = orientation >= 5;
        var stored = new SKBitmap(new SKImageInfo(swap ? h : w, swap ? w : h, SKColorType.Rgba8888, SKAlphaType.Premul));
        for (var y = 0; y < stored.Height; y++)
        {
            for (var x = 0; x < stored.Width; x++)
            {
                var (ux, uy) = orientation switch
                {
                    2 => (w - 1 - x, y),          // mirrored left to right
                    3 => (w - 1 - x, h - 1 - y),  // turned 180 degrees
                    4 => (x, h - 1 - y),          // mirrored top to bottom
                    5 => (y, x),                  // transposed
                    6 => (w - 1 - y, x),          // stored turned 90 degrees counterclockwise: shown turned clockwise
                    7 => (w - 1 - y, h - 1 - x),  // transversed
                    _ => (y, h - 1 - x),          // 8: stored turned 90 degrees clockwise
                };
                stored.SetPixel(x, y, upright.GetPixel(ux, uy));
            }
        }

        return stored;
    }

    private static byte[] Jpeg(SKBitmap bitmap)
    {
        using var data = bitmap.Encode(SKEncodedImageFormat.Jpeg, 100);
        return data.ToArray();
    }

    /// <summary>The JPEG with an APP1 Exif segment right after its start marker, holding only the Orientation tag.</summary>
    private static byte[] WithExifOrientation(byte[] jpeg, int orientation)
    {
        jpeg[..2].Should().Equal(0xFF, 0xD8);
        byte[] exif =
        [
            0xFF, 0xE1, 0x00, 34,                         // APP1, length 34 (itself included)
            (byte)'E', (byte)'x', (byte)'i', (byte)'f', 0, 0,
            (byte)'M', (byte)'M', 0x00, 0x2A, 0, 0, 0, 8, // TIFF header, big-endian, IFD0 at offset 8
            0x00, 0x01,                                   // one entry
            0x01, 0x12, 0x00, 0x03, 0, 0, 0, 1, 0, (byte)orientation, 0, 0, // Orientation, SHORT, 1 value
            0, 0, 0, 0,                                   // no next IFD
        ];
        return [.. jpeg[..2], .. exif, .. jpeg[2..]];
    }

    [Fact]
    public async Task Infer_PipelineBesideConfigPbtxt_InMaasJson_ServesAsTheBundledOne()
    {
        // A Triton repository: the pipeline section goes to maas.json, the server's additions beside config.pbtxt,
        // which stays a file Triton reads (its ModelConfig has no pipeline field).
        var pipeline = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(RepositoryPaths.Models, Digits, "config.json")))!["pipeline"]!.DeepClone();
        using var repository = new TempRepository()
            .CopyModel(RepositoryPaths.Models, "cnn")
            .WriteFile($"{Digits}/config.pbtxt", $"name: \"{Digits}\"\n")
            .WriteFile($"{Digits}/maas.json", new JsonObject { ["pipeline"] = pipeline }.ToJsonString())
            .WriteFile($"{Digits}/labels.txt", await File.ReadAllBytesAsync(Path.Combine(RepositoryPaths.Models, Digits, "labels.txt")));
        await using var triton = new RepositoryApplication(repository.Path);
        using var tritonClient = await triton.CreateReadyClientAsync();
        using var bundled = await app.CreateReadyClientAsync();

        for (var digit = 0; digit < 10; digit += 3)
        {
            var classes = await ClassifyRawAsync(tritonClient, Sample(digit), "image/png");
            classes.Should().Equal(await ClassifyRawAsync(bundled, Sample(digit), "image/png"));
            classes[0].Index.Should().Be(digit);
        }
    }

    [Fact]
    public async Task Infer_JsonBase64Element_IsClassified()
    {
        using var client = await app.CreateReadyClientAsync();
        var body = new JsonObject
        {
            ["inputs"] = new JsonArray(V2Requests.JsonInput("image", "BYTES", [2], new JsonArray(
                Convert.ToBase64String(Sample(4)), "data:image/png;base64," + Convert.ToBase64String(Sample(5))))),
        };
        using var response = await client.PostAsync(V2Requests.InferUri(Digits), V2Requests.Json(body));
        var text = await response.Content.ReadAsStringAsync();
        response.StatusCode.Should().Be(HttpStatusCode.OK, text);

        Classes(text).Where((_, i) => i % 3 == 0).Select(c => c.Index).Should().Equal(4, 5);
    }

    [Theory]
    [InlineData("not an image at all", "element 0 is neither a PNG, JPEG, WebP or BMP image nor the base64 of one")]
    [InlineData("aGVsbG8gd29ybGQ=", "element 0 is not a PNG, JPEG, WebP or BMP image")]
    public async Task Infer_NotAnImage_Returns400WithTheReason(string body, string reason)
    {
        using var client = await app.CreateReadyClientAsync();
        using var content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
        content.Headers.ContentType = new MediaTypeHeaderValue("image/png");
        using var response = await client.PostAsync(V2Requests.InferUri(Digits), content);

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await ErrorAsync(response)).Should().Contain(reason);
    }

    [Fact]
    public async Task Infer_TruncatedPng_Returns400SayingItCannotBeDecoded()
    {
        using var client = await app.CreateReadyClientAsync();
        var png = Sample(8);
        using var content = new ByteArrayContent(png[..(png.Length / 2)]);
        content.Headers.ContentType = new MediaTypeHeaderValue("image/png");
        using var response = await client.PostAsync(V2Requests.InferUri(Digits), content);

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await ErrorAsync(response)).Should().Contain("element 0 cannot be decoded");
    }

    [Fact]
    public async Task Infer_GifContentType_Returns400NamingTheSupportedTypes()
    {
        using var client = await app.CreateReadyClientAsync();
        using var content = new ByteArrayContent(Sample(1));
        content.Headers.ContentType = new MediaTypeHeaderValue("image/gif");
        using var response = await client.PostAsync(V2Requests.InferUri(Digits), content);

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await ErrorAsync(response)).Should().Contain("image/png, image/jpeg, image/webp or image/bmp");
    }

    [Theory]
    [InlineData("cnn")]
    [InlineData("mlp")]
    public async Task Infer_RawImageToAModelThatIsNoImagePipeline_Returns400(string model)
    {
        using var client = await app.CreateReadyClientAsync();
        using var content = new ByteArrayContent(Sample(2));
        content.Headers.ContentType = new MediaTypeHeaderValue("image/png");
        using var response = await client.PostAsync(V2Requests.InferUri(model), content);

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await ErrorAsync(response)).Should().Contain($"model '{model}' is not an image pipeline model");
    }

    [Fact]
    public async Task Infer_RawImageToAnUnknownModel_Returns404()
    {
        using var client = await app.CreateReadyClientAsync();
        using var content = new ByteArrayContent(Sample(2));
        content.Headers.ContentType = new MediaTypeHeaderValue("image/png");
        using var response = await client.PostAsync(V2Requests.InferUri("nope"), content);

        response.StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Stats_Digits_CountsItsOwnRequestsUnderTheInnerVersion()
    {
        using var client = await app.CreateReadyClientAsync();
        var before = await DigitsStatsAsync(client);

        for (var digit = 0; digit < 3; digit++)
        {
            (await ClassifyRawAsync(client, Sample(digit), "image/png"))[0].Index.Should().Be(digit);
        }

        var after = await DigitsStatsAsync(client);
        after.GetProperty("name").GetString().Should().Be(Digits);
        after.GetProperty("version").GetString().Should().Be("1", "a pipeline's versions are its inner model's (cnn 1)");
        Count(after, "inference_count").Should().Be(Count(before, "inference_count") + 3);
        Count(after.GetProperty("inference_stats").GetProperty("success"), "count").Should().Be(Count(before.GetProperty("inference_stats").GetProperty("success"), "count") + 3);
        Count(after.GetProperty("inference_stats").GetProperty("compute_infer"), "ns").Should().BeGreaterThan(
            Count(before.GetProperty("inference_stats").GetProperty("compute_infer"), "ns"), "the inner model's run time is the pipeline's compute time");
        using var all = JsonDocument.Parse(await client.GetStringAsync(new Uri("/v2/models/stats", UriKind.Relative)));
        all.RootElement.GetProperty("model_stats").EnumerateArray().Select(m => m.GetProperty("name").GetString()).Should().Contain(Digits);
        var metrics = await client.GetStringAsync(new Uri("/metrics", UriKind.Relative));
        metrics.Should().Contain($"nv_inference_request_success{{model=\"{Digits}\",version=\"1\"}} {Count(after.GetProperty("inference_stats").GetProperty("success"), "count")}\n");
    }

    [Fact]
    public async Task Config_Digits_DescribesThePipelinesOwnTensors()
    {
        using var client = await app.CreateReadyClientAsync();
        using var config = JsonDocument.Parse(await client.GetStringAsync(new Uri($"/v2/models/{Digits}/config", UriKind.Relative)));
        using var metadata = JsonDocument.Parse(await client.GetStringAsync(new Uri($"/v2/models/{Digits}", UriKind.Relative)));
        var root = config.RootElement;

        root.GetProperty("name").GetString().Should().Be(Digits);
        root.GetProperty("platform").GetString().Should().Be("maas_pipeline");
        root.GetProperty("parameters").GetProperty("pipeline.inner_model").GetProperty("string_value").GetString().Should().Be("cnn");
        var batched = root.GetProperty("max_batch_size").GetInt32() > 0;
        foreach (var (section, tensors) in new[] { ("input", "inputs"), ("output", "outputs") })
        {
            var configured = root.GetProperty(section)[0];
            var described = metadata.RootElement.GetProperty(tensors)[0];
            configured.GetProperty("name").GetString().Should().Be(described.GetProperty("name").GetString());
            configured.GetProperty("data_type").GetString().Should().Be("TYPE_STRING");
            var dims = configured.GetProperty("dims").EnumerateArray().Select(d => d.GetInt64());
            (batched ? dims.Prepend(-1) : dims).Should().Equal(described.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()));
        }
    }

    private static async Task<JsonElement> DigitsStatsAsync(HttpClient client)
    {
        using var stats = JsonDocument.Parse(await client.GetStringAsync(new Uri($"/v2/models/{Digits}/stats", UriKind.Relative)));
        return stats.RootElement.GetProperty("model_stats").EnumerateArray().Should().ContainSingle().Which.Clone();
    }

    private static long Count(JsonElement element, string name) => element.GetProperty(name).GetInt64();

    [Fact]
    public async Task Metadata_Digits_ShowsImageInAndClassificationOut()
    {
        using var client = await app.CreateReadyClientAsync();
        using var document = JsonDocument.Parse(await client.GetStringAsync(new Uri($"/v2/models/{Digits}", UriKind.Relative)));
        var input = document.RootElement.GetProperty("inputs")[0];
        var output = document.RootElement.GetProperty("outputs")[0];

        (input.GetProperty("name").GetString(), input.GetProperty("datatype").GetString()).Should().Be(("image", "BYTES"));
        input.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()).Should().Equal(-1);
        (output.GetProperty("name").GetString(), output.GetProperty("datatype").GetString()).Should().Be(("classification", "BYTES"));
        output.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()).Should().Equal(-1, 3);
    }

    internal static async Task<List<(double Score, int Index, string Label)>> ClassifyRawAsync(HttpClient client, byte[] image, string contentType)
    {
        using var content = new ByteArrayContent(image);
        content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        using var response = await client.PostAsync(V2Requests.InferUri(Digits), content);
        var text = await response.Content.ReadAsStringAsync();
        response.StatusCode.Should().Be(HttpStatusCode.OK, text);
        return Classes(text);
    }

    internal static (double Score, int Index, string Label) Parse(string classification)
    {
        var parts = classification.Split(':');
        parts.Should().HaveCount(3, classification);
        return (double.Parse(parts[0], CultureInfo.InvariantCulture), int.Parse(parts[1], CultureInfo.InvariantCulture), parts[2]);
    }

    private static List<(double Score, int Index, string Label)> Classes(string json)
    {
        using var document = JsonDocument.Parse(json);
        var output = document.RootElement.GetProperty("outputs")[0];
        output.GetProperty("name").GetString().Should().Be("classification");
        return output.GetProperty("data").EnumerateArray().Select(element => Parse(element.GetString()!)).ToList();
    }

    private static async Task<string> ErrorAsync(HttpResponseMessage response) =>
        (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString()!;
}
