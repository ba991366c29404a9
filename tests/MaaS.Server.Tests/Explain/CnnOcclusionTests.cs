using System.Text.Json.Nodes;
using MaaS.Server.Tests.Infrastructure;
using SkiaSharp;

namespace MaaS.Server.Tests.Explain;

/// <summary>
/// Occlusion of the trained bundled cnn on its sample digits (models/samples/digit-*.png, decoded here as docs/models.md
/// says: 28x28 gray, white on black, v / 255, [1, 1, 28, 28]): the explanation of the predicted class puts its largest
/// attributions on the digit's strokes.
/// </summary>
[Collection(BundledModelsGroup.Name)]
public sealed class CnnOcclusionTests(MaaSApplication app)
{
    /// <summary>
    /// A stroke pixel is at least a quarter of full white: the 8x8 originals were upsampled bilinearly, so each stroke
    /// has a faint halo, and most of the frame is not exactly 0. Strokes so defined cover about 40% to 51% of a sample.
    /// </summary>
    private const float StrokeLevel = 0.25f;

    private const int Top = 20;

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    [InlineData(7)]
    [InlineData(8)]
    [InlineData(9)]
    public async Task Occlusion_SampleDigit_PutsItsLargestAttributionsOnTheStrokes(int digit)
    {
        var pixels = Digit(digit);
        var strokes = Enumerable.Range(0, pixels.Length).Where(i => pixels[i] >= StrokeLevel).ToHashSet();
        // So that the claim below is far from what chance gives: 18 of 20 pixels drawn at random land on strokes
        // covering at most 55% of the image with a probability under 1e-3.
        strokes.Count.Should().BeLessThanOrEqualTo(pixels.Length * 55 / 100);
        using var client = await app.CreateReadyClientAsync();
        var body = new JsonObject
        {
            ["inputs"] = new JsonArray(V2Requests.JsonInput("image", "FP32", [1, 1, 28, 28], new JsonArray([.. pixels.Select(v => (JsonNode)v)]))),
            // Overlapping 4 x 4 windows every 2 pixels (14 x 14 windows), occluded with black (the baseline zeros).
            ["parameters"] = new JsonObject { ["method"] = "occlusion", ["window"] = 4, ["stride"] = 2 },
        };

        var explained = await ExplainRequests.PostAsync(client, "cnn", body);

        explained.Parameters.GetProperty("target").GetProperty("index")[0].GetInt64().Should().Be(digit, "the cnn classifies its sample digits correctly");
        explained.Evaluations.Should().Be((14 * 14) + 2);
        var attributions = explained.Attributions("image");
        var top = Enumerable.Range(0, attributions.Length).OrderByDescending(i => attributions[i]).Take(Top).ToList();
        attributions[top[^1]].Should().BePositive();
        top.Count(strokes.Contains).Should().BeGreaterThanOrEqualTo(Top * 9 / 10, "the {0} largest attributions of digit {1} should lie on its strokes", Top, digit);
    }

    private static float[] Digit(int digit)
    {
        using var bitmap = SKBitmap.Decode(Path.Combine(RepositoryPaths.Models, "samples", $"digit-{digit}.png"));
        bitmap.Width.Should().Be(28);
        bitmap.Height.Should().Be(28);
        return [.. Enumerable.Range(0, 28 * 28).Select(i => bitmap.GetPixel(i % 28, i / 28).Red / 255f)];
    }
}
