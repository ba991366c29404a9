using System.Net;
using System.Text;
using System.Text.Json;
using MaaS.Client.Tests.Infrastructure;

namespace MaaS.Client.Tests;

/// <summary>
/// ExplainAsync against the server's /explain on the zoo's explanation models, whose reference.json holds the exact
/// attributions (computed from the models' known weights, not by the server).
/// </summary>
public sealed class ExplainTests(ZooServer server) : IClassFixture<ZooServer>
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Explain_Linear_ExactShapleyValuesEqualReference(bool binary)
    {
        using var reference = InferTests.ReadReference("linear");
        var inputs = reference.RootElement.GetProperty("inputs").EnumerateArray().Select(InferTests.ToInput).ToList();

        var result = await server.Client.ExplainAsync("linear", inputs, new ExplainOptions { Method = "shapley", Binary = binary, Id = "e1" });

        result.ModelName.Should().Be("linear");
        result.ModelVersion.Should().Be("1");
        result.Id.Should().Be("e1");
        result.Method.Should().Be("shapley");
        result.Estimator.Should().Be("exact");
        result.TargetOutput.Should().Be("y");
        result.TargetIndex.Should().Equal(0, 0);
        result.Evaluations.Should().BeGreaterThan(0);
        result.HeldFixed.Should().BeEmpty();
        var expected = reference.RootElement.GetProperty("explain").GetProperty("zeros");
        ShouldEqual(result["x"], expected, 1e-5);
        var outputs = reference.RootElement.GetProperty("outputs")[0].GetProperty("data").EnumerateArray().Select(e => e.GetDouble());
        result.Prediction.Should().Equal(outputs, (a, e) => Math.Abs(a - e) <= 1e-4);
        result.BaselinePrediction.Should().OnlyContain(b => Math.Abs(b - 0.3) <= 1e-5, "f(0) is the bias");
    }

    [Fact]
    public async Task Explain_Linear_BaselineTensor_EqualsReference()
    {
        using var reference = InferTests.ReadReference("linear");
        var inputs = reference.RootElement.GetProperty("inputs").EnumerateArray().Select(InferTests.ToInput).ToList();
        var baseline = InferTests.ToInput(reference.RootElement.GetProperty("explain").GetProperty("baseline"));

        var result = await server.Client.ExplainAsync("linear", inputs, new ExplainOptions { Baseline = ExplainBaseline.FromTensors([baseline]) });

        ShouldEqual(result["x"], reference.RootElement.GetProperty("explain").GetProperty("with_baseline"), 1e-5);
    }

    [Fact]
    public async Task Explain_LinearWide_KernelShapWithSeed_IsRepeatableAndRecoversTheWeights()
    {
        using var reference = InferTests.ReadReference("linear_wide");
        var inputs = reference.RootElement.GetProperty("inputs").EnumerateArray().Select(InferTests.ToInput).ToList();
        var options = new ExplainOptions { Samples = 200, Seed = 42, TargetOutput = "y" };

        var first = await server.Client.ExplainAsync("linear_wide", inputs, options);
        var second = await server.Client.ExplainAsync("linear_wide", inputs, options);

        first.Estimator.Should().Be("kernel");
        first.Samples.Should().Be(200);
        first["x"].ToArray<float>().Should().Equal(second["x"].ToArray<float>());
        ShouldEqual(first["x"], reference.RootElement.GetProperty("explain").GetProperty("zeros"), 1e-4);
    }

    [Fact]
    public async Task Explain_TokenOne_TokensThroughTheMask_EqualReferenceAndHoldTheMask()
    {
        using var reference = InferTests.ReadReference("token_one");
        var inputs = reference.RootElement.GetProperty("inputs").EnumerateArray().Select(InferTests.ToInput).ToList();

        var result = await server.Client.ExplainAsync("token_one", inputs, new ExplainOptions { Method = "tokens", TokenInputs = ["tokens"], MaskInput = "mask" });

        result.Method.Should().Be("tokens");
        result.HeldFixed.Should().Equal("mask");
        result.Attributions.Select(a => a.Name).Should().Equal("tokens");
        result["tokens"].Datatype.Should().Be("FP32");
        ShouldEqual(result["tokens"], reference.RootElement.GetProperty("explain").GetProperty("tokens"), 1e-5);
    }

    [Fact]
    public async Task Explain_SameRequestByHand_ClientAndServerJsonAgree()
    {
        using var reference = InferTests.ReadReference("pixels");
        var inputs = reference.RootElement.GetProperty("inputs").EnumerateArray().Select(InferTests.ToInput).ToList();
        var body = "{\"inputs\": " + reference.RootElement.GetProperty("inputs").GetRawText()
            + ", \"parameters\": {\"method\": \"occlusion\", \"window\": 2, \"stride\": 2, \"baseline\": 0.5}}";
        using var answer = await server.Raw.PostAsync("/v2/models/pixels/explain", new StringContent(body, Encoding.UTF8, "application/json"));
        answer.StatusCode.Should().Be(HttpStatusCode.OK);
        using var http = JsonDocument.Parse(await answer.Content.ReadAsStringAsync());

        var result = await server.Client.ExplainAsync("pixels", inputs, new ExplainOptions { Method = "occlusion", Window = [2], Stride = [2], Baseline = ExplainBaseline.Constant(0.5) });

        result.Method.Should().Be("occlusion");
        result.Evaluations.Should().Be(http.RootElement.GetProperty("parameters").GetProperty("evaluations").GetInt64());
        var expected = http.RootElement.GetProperty("outputs")[0];
        result["image"].Shape.Should().Equal(expected.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()));
        ShouldEqual(result["image"], expected, 0);
        result["image"].ToArray<float>().Should().Contain(v => v != 0, "three pixels matter");
        result["image"].ToArray<float>().Count(v => v != 0).Should().Be(2 * 3 * 4, "2 x 2 windows over the last two dims: three windows matter per row");
    }

    [Fact]
    public async Task Explain_BadParameter_Is400WithTheServersMessage()
    {
        using var reference = InferTests.ReadReference("linear");
        var inputs = reference.RootElement.GetProperty("inputs").EnumerateArray().Select(InferTests.ToInput).ToList();

        var unknownMethod = () => server.Client.ExplainAsync("linear", inputs, new ExplainOptions { Method = "lime" });
        var badOutput = () => server.Client.ExplainAsync("linear", inputs, new ExplainOptions { TargetOutput = "nope" });
        var noModel = () => server.Client.ExplainAsync("nope", inputs);

        var error = (await unknownMethod.Should().ThrowAsync<MaaSException>()).Which;
        error.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        error.Message.Should().Contain("unknown explanation method 'lime'");
        (await badOutput.Should().ThrowAsync<MaaSException>()).Which.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await noModel.Should().ThrowAsync<MaaSException>()).Which.StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    private static void ShouldEqual(InferOutput actual, JsonElement expected, double tolerance)
    {
        actual.Shape.Should().Equal(expected.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()));
        actual.ToArray<float>().Should().Equal(
            expected.GetProperty("data").EnumerateArray().Select(e => (float)e.GetDouble()),
            (a, e) => Math.Abs(a - e) <= tolerance);
    }
}
