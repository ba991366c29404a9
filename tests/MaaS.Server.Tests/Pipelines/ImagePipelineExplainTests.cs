using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using MaaS.Server.Tests.Explain;
using MaaS.Server.Tests.Infrastructure;
using SkiaSharp;

namespace MaaS.Server.Tests.Pipelines;

/// <summary>
/// Explanations of the bundled image pipeline <c>digits</c> (over <c>cnn</c>), per pixel of the cnn's input image: the
/// target is the pipeline's score (after its softmax), the attributions those of the cnn's [1, 28, 28] image.
/// </summary>
public sealed class ImagePipelineExplainTests(MaaSApplication app) : IClassFixture<MaaSApplication>
{
    /// <summary>As in <see cref="CnnOcclusionTests"/>: a stroke pixel is at least a quarter of full white.</summary>
    private const float StrokeLevel = 0.25f;

    private const int Top = 20;

    private static readonly byte[] Seven = File.ReadAllBytes(Path.Combine(RepositoryPaths.Models, "samples", "seven.png"));

    [Fact]
    public async Task Explain_DigitsSeven_PutsItsLargestAttributionsOnTheStrokes()
    {
        var pixels = Pixels(Seven);
        var strokes = Enumerable.Range(0, pixels.Length).Where(i => pixels[i] >= StrokeLevel).ToHashSet();
        strokes.Count.Should().BeLessThanOrEqualTo(pixels.Length * 55 / 100, "else landing on strokes would prove little");
        using var client = await app.CreateReadyClientAsync();

        var explained = await ExplainRequests.PostAsync(client, "digits", Base64Body(new JsonObject { ["window"] = 4, ["stride"] = 2 }));

        explained.Method.Should().Be("occlusion", "occlusion is an image pipeline's default");
        explained.Parameters.GetProperty("target").GetProperty("output").GetString().Should().Be("classification");
        explained.Parameters.GetProperty("target").GetProperty("index")[0].GetInt64().Should().Be(7, "the default target is the pipeline's top class");
        explained.Prediction[0].Should().BeInRange(0.5, 1, "the target is the pipeline's softmax score");
        explained.Evaluations.Should().Be((14 * 14) + 2);
        explained.HeldFixed.Should().BeEmpty();
        var image = explained.Parameters.GetProperty("image");
        (image.GetProperty("layout").GetString(), image.GetProperty("channels").GetInt32(), image.GetProperty("height").GetInt32(), image.GetProperty("width").GetInt32())
            .Should().Be(("NCHW", 1, 28, 28));
        explained.Output("image").GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()).Should().Equal(1, 1, 28, 28);
        var attributions = explained.Attributions("image");
        var top = Enumerable.Range(0, attributions.Length).OrderByDescending(i => attributions[i]).Take(Top).ToList();
        attributions[top[^1]].Should().BePositive();
        top.Count(strokes.Contains).Should().BeGreaterThanOrEqualTo(Top * 9 / 10, "the {0} largest attributions should lie on the strokes", Top);
    }

    /// <summary>
    /// Without its softmax the pipeline's score is the cnn's logit, so the explanation of a binary BYTES image equals the
    /// cnn's of the hand-decoded tensor (same target, window, stride, baseline).
    /// </summary>
    [Fact]
    public async Task Explain_DigitsWithoutSoftmaxBinaryImage_EqualsTheCnnExplanationOfTheTensor()
    {
        using var repository = new TempRepository().CopyModel(RepositoryPaths.Models, "cnn").CopyModel(RepositoryPaths.Models, "digits");
        var config = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(repository.Path, "digits", "config.json")))!.AsObject();
        config["pipeline"]!["classification"]!["softmax"] = false;
        repository.WriteFile("digits/config.json", config.ToJsonString());
        await using var own = new RepositoryApplication(repository.Path);
        using var client = await own.CreateReadyClientAsync();
        var parameters = new JsonObject { ["window"] = 7, ["stride"] = 7, ["baseline"] = 0.5, ["target"] = new JsonObject { ["index"] = 3 } };
        var blob = BitConverter.GetBytes(Seven.Length).Concat(Seven).ToArray();
        var header = new JsonObject { ["inputs"] = new JsonArray(V2Requests.BinaryInput("image", "BYTES", [1], blob.Length)), ["parameters"] = parameters.DeepClone() };
        using var message = V2Requests.Binary(ExplainRequests.ExplainUri("digits"), header, [blob]);
        using var response = await client.SendAsync(message);
        var text = await response.Content.ReadAsStringAsync();
        response.StatusCode.Should().Be(HttpStatusCode.OK, text);
        using var document = JsonDocument.Parse(text);
        var pipeline = new Explained(document.RootElement.Clone());
        var tensor = new JsonObject
        {
            ["inputs"] = new JsonArray(V2Requests.JsonInput("image", "FP32", [1, 1, 28, 28], new JsonArray([.. Pixels(Seven).Select(v => (JsonNode)v)]))),
            ["parameters"] = parameters.DeepClone(),
        };

        var cnn = await ExplainRequests.PostAsync(client, "cnn", tensor);

        pipeline.Parameters.GetProperty("target").GetProperty("index")[0].GetInt64().Should().Be(3);
        pipeline.Evaluations.Should().Be(cnn.Evaluations).And.Be(16 + 2);
        pipeline.Prediction.Should().Equal(cnn.Prediction, (a, e) => Math.Abs(a - e) < 1e-5);
        pipeline.BaselinePrediction.Should().Equal(cnn.BaselinePrediction, (a, e) => Math.Abs(a - e) < 1e-5);
        pipeline.Attributions("image").Should().Equal(cnn.Attributions("image"), (a, e) => Math.Abs(a - e) < 1e-5);
    }

    [Fact]
    public async Task Explain_DigitsShapleyOverFewFeatures_IsExactAndAdditive()
    {
        using var client = await app.CreateReadyClientAsync();

        var explained = await ExplainRequests.PostAsync(client, "digits", Base64Body(new JsonObject { ["method"] = "shapley", ["window"] = 14 }));

        explained.Method.Should().Be("shapley");
        explained.Parameters.GetProperty("estimator").GetString().Should().Be("exact");
        explained.ShouldBeAdditive(1e-5);
    }

    [Fact]
    public async Task ExplainV1_Digits_AnswersEachImageAsA1x28x28Nest()
    {
        using var client = await app.CreateReadyClientAsync();

        using var response = await client.PostAsync(
            new Uri("/v1/models/digits:explain", UriKind.Relative),
            V2Requests.Json(new JsonObject { ["instances"] = new JsonArray(Convert.ToBase64String(Seven)), ["parameters"] = new JsonObject { ["window"] = 14, ["stride"] = 14 } }));

        var text = await response.Content.ReadAsStringAsync();
        response.StatusCode.Should().Be(HttpStatusCode.OK, text);
        using var document = JsonDocument.Parse(text);
        var image = document.RootElement.GetProperty("explanations")[0].GetProperty("image");
        image.GetArrayLength().Should().Be(1);
        image[0].GetArrayLength().Should().Be(28);
        image[0][0].GetArrayLength().Should().Be(28);
        document.RootElement.GetProperty("parameters").GetProperty("evaluations").GetInt32().Should().Be(4 + 2);
    }

    [Theory]
    [InlineData("""{"method": "shapley", "window": 4, "samples": 5000}""", "over the server's budget of 4096 (MaaS:Explain:MaxEvaluations)")]
    [InlineData("""{"method": "shapley"}""", "64")]
    [InlineData("""{"target": {"index": 10}}""", "target index 10 is out of range: a row of output 'classification' has 10 element(s)")]
    [InlineData("""{"target": {"output": "logits"}}""", "unknown target output 'logits'; model 'digits' has one output, 'classification'")]
    [InlineData("""{"method": "tokens"}""", "is an image pipeline: it is explained per pixel")]
    [InlineData("""{"baseline": [{"name": "pixels", "shape": [1], "data": [0]}]}""", "baseline for unknown input 'pixels'")]
    public async Task Explain_DigitsWithParametersItCannotServe_Returns400(string parameters, string error)
    {
        using var client = await app.CreateReadyClientAsync();
        var body = Base64Body(JsonNode.Parse(parameters)!.AsObject());

        using var response = await client.PostAsync(ExplainRequests.ExplainUri("digits"), V2Requests.Json(body));

        var text = await response.Content.ReadAsStringAsync();
        response.StatusCode.Should().Be(HttpStatusCode.BadRequest, text);
        JsonDocument.Parse(text).RootElement.GetProperty("error").GetString().Should().Contain(error);
    }

    private static JsonObject Base64Body(JsonObject parameters) => new()
    {
        ["inputs"] = new JsonArray(V2Requests.JsonInput("image", "BYTES", [1], new JsonArray(Convert.ToBase64String(Seven)))),
        ["parameters"] = parameters,
    };

    /// <summary>The cnn's input for a 28x28 gray PNG, decoded independently of the pipeline: v / 255, row-major.</summary>
    private static float[] Pixels(byte[] png)
    {
        using var bitmap = SKBitmap.Decode(png);
        bitmap.Width.Should().Be(28);
        bitmap.Height.Should().Be(28);
        return [.. Enumerable.Range(0, 28 * 28).Select(i => bitmap.GetPixel(i % 28, i / 28).Red / 255f)];
    }
}
