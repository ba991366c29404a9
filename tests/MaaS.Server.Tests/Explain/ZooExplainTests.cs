using System.Text.Json;
using System.Text.Json.Nodes;
using MaaS.Server.Tests.Infrastructure;

namespace MaaS.Server.Tests.Explain;

/// <summary>Explanations with exact answers, on zoo models built for them (tests/fixtures/zoo: linear, linear_wide, pixels, token_one).</summary>
[Collection(ZooGroup.Name)]
public sealed class ZooExplainTests(ZooApplication app)
{
    [Fact]
    public async Task Shapley_LinearModel_EqualsWeightTimesInputExactly()
    {
        var reference = ReferenceCase.Zoo("linear");
        using var client = await app.CreateReadyClientAsync();

        var explained = await ExplainRequests.PostAsync(client, "linear", ExplainRequests.Body(reference, new JsonObject { ["method"] = "shapley" }));

        explained.Method.Should().Be("shapley");
        explained.Parameters.GetProperty("estimator").GetString().Should().Be("exact");
        explained.Evaluations.Should().Be(2 * 256, "8 features enumerate 2^8 coalitions per row");
        explained.Output("x").GetProperty("shape").EnumerateArray().Select(dim => dim.GetInt64()).Should().Equal(2, 8);
        explained.Output("x").GetProperty("datatype").GetString().Should().Be("FP32");
        explained.Attributions("x").Should().Equal(Expected(reference, "zeros"), (actual, expected) => Math.Abs(actual - expected) <= 1e-5);
        explained.Prediction.Should().Equal(ExplainRequests.Floats(reference.Outputs[0].Data), (actual, expected) => Math.Abs(actual - expected) <= 1e-5);
        explained.BaselinePrediction.Should().AllSatisfy(value => value.Should().BeApproximately(0.3, 1e-6));
        explained.HeldFixed.Should().BeEmpty();
    }

    [Fact]
    public async Task Shapley_LinearModelWithBaselineRow_EqualsWeightTimesDifference()
    {
        var reference = ReferenceCase.Zoo("linear");
        var baseline = Explain(reference).GetProperty("baseline");
        using var client = await app.CreateReadyClientAsync();

        var explained = await ExplainRequests.PostAsync(client, "linear", ExplainRequests.Body(reference, new JsonObject
        {
            ["baseline"] = new JsonArray(JsonNode.Parse(baseline.GetRawText())),
        }));

        explained.Method.Should().Be("shapley", "shapley is the default for at most 64 features");
        explained.Attributions("x").Should().Equal(Expected(reference, "with_baseline"), (actual, expected) => Math.Abs(actual - expected) <= 1e-5);
        explained.ShouldBeAdditive(1e-4);
    }

    [Fact]
    public async Task KernelShap_LinearModelOf24Features_IsExactAndAddsUp()
    {
        var reference = ReferenceCase.Zoo("linear_wide");
        using var client = await app.CreateReadyClientAsync();

        var explained = await ExplainRequests.PostAsync(client, "linear_wide", ExplainRequests.Body(reference, new JsonObject { ["samples"] = 200, ["seed"] = 7 }));

        explained.Parameters.GetProperty("estimator").GetString().Should().Be("kernel");
        explained.Parameters.GetProperty("samples").GetInt32().Should().Be(200);
        explained.Evaluations.Should().Be(2 * 202);
        explained.Attributions("x").Should().Equal(Expected(reference, "zeros"), (actual, expected) => Math.Abs(actual - expected) <= 1e-4);
        explained.ShouldBeAdditive(1e-4);
    }

    [Fact]
    public async Task KernelShap_SameSeed_GivesTheSameAnswer()
    {
        var reference = ReferenceCase.Zoo("linear_wide");
        using var client = await app.CreateReadyClientAsync();
        var body = ExplainRequests.Body(reference, new JsonObject { ["samples"] = 60, ["seed"] = 3 });

        var first = await ExplainRequests.PostAsync(client, "linear_wide", body);
        var second = await ExplainRequests.PostAsync(client, "linear_wide", JsonNode.Parse(body.ToJsonString())!.AsObject());

        second.Attributions("x").Should().Equal(first.Attributions("x"));
    }

    [Fact]
    public async Task Shapley_ModelWithoutBatchDim_RunsOneEvaluationPerCallAndAddsUp()
    {
        // no_batch: x FP32 [2,3] -> y FP32 [3,2], max_batch_size 0: the whole tensor is one row of 6 features.
        var reference = ReferenceCase.Zoo("no_batch");
        using var client = await app.CreateReadyClientAsync();

        var explained = await ExplainRequests.PostAsync(client, "no_batch", ExplainRequests.Body(reference, new JsonObject
        {
            ["target"] = new JsonObject { ["index"] = 4 },
        }));

        explained.Evaluations.Should().Be(64);
        explained.Parameters.GetProperty("target").GetProperty("index")[0].GetInt64().Should().Be(4);
        explained.Prediction.Should().ContainSingle().Which.Should().BeApproximately(ExplainRequests.Floats(reference.Outputs[0].Data)[4], 1e-5);
        explained.Output("x").GetProperty("shape").EnumerateArray().Select(dim => dim.GetInt64()).Should().Equal(2, 3);
        explained.Attributions("x").Should().Equal([0, 0, 2 * 3.5, 0, 0, 0], "y[2,0] = 2 x[0,2] + 1 depends on x[0,2] (3.5) alone");
        explained.ShouldBeAdditive(1e-4);
    }

    [Fact]
    public async Task Shapley_MixedInputs_AttributesFloatsInTheirOwnTypesAndHoldsIntegersFixed()
    {
        // multi_io: sum (FP64) = a (FP32) + b (FP64); c (INT32) feeds another output. sum[1] of a row is a[1] + b[1].
        var reference = ReferenceCase.Zoo("multi_io");
        var a = ExplainRequests.Floats(reference.Inputs.Single(input => input.Name == "a").Data);
        var b = ExplainRequests.Floats(reference.Inputs.Single(input => input.Name == "b").Data);
        using var client = await app.CreateReadyClientAsync();

        var explained = await ExplainRequests.PostAsync(client, "multi_io", ExplainRequests.Body(reference, new JsonObject
        {
            ["target"] = new JsonObject { ["output"] = "sum", ["index"] = 1 },
        }));

        explained.HeldFixed.Should().Equal("c");
        explained.Evaluations.Should().Be(3 * 64, "3 rows of 6 floating-point features");
        explained.Attributions("a").Should().Equal(a.Select((value, i) => i % 3 == 1 ? value : 0), (actual, expected) => Math.Abs(actual - expected) <= 1e-5);
        explained.Attributions("b").Should().Equal(b.Select((value, i) => i % 3 == 1 ? value : 0), (actual, expected) => Math.Abs(actual - expected) <= 1e-5);
        explained.Json.GetProperty("outputs").EnumerateArray().Select(output => output.GetProperty("name").GetString()).Should().Equal("a", "b");
    }

    [Fact]
    public async Task Shapley_Fp16ModelOverV1_ReadsAndWritesHalfPrecision()
    {
        // fp16: y = 2x in FLOAT16; V1 takes plain numbers for FP16 inputs.
        using var client = await app.CreateReadyClientAsync();

        using var response = await client.PostAsync(
            new Uri("/v1/models/fp16:explain", UriKind.Relative),
            V2Requests.Json("""{"instances": [[0.5, -1.25, 3.0, 100.0]], "parameters": {"target": {"index": 2}}}"""));

        var text = await response.Content.ReadAsStringAsync();
        response.StatusCode.Should().Be(System.Net.HttpStatusCode.OK, text);
        var json = JsonDocument.Parse(text).RootElement;
        json.GetProperty("predictions")[0].GetDouble().Should().Be(6.0);
        json.GetProperty("explanations")[0].GetProperty("x").EnumerateArray().Select(value => value.GetDouble()).Should().Equal(0, 0, 6, 0);
    }

    [Fact]
    public async Task Shapley_Fp16ModelOverV2_NeedsNoBinaryOutputsSinceItAnswersAttributions()
    {
        // FP16 has no JSON form in V2, so the input goes binary; the FP16 output is not returned, so it needs no form.
        using var client = await app.CreateReadyClientAsync();
        var data = new[] { (Half)0.5, (Half)(-1.25), (Half)3.0, (Half)100.0 }.SelectMany(value => BitConverter.GetBytes(value)).ToArray();
        var header = new JsonObject
        {
            ["inputs"] = new JsonArray(V2Requests.BinaryInput("x", "FP16", [1, 4], data.Length)),
            ["parameters"] = new JsonObject { ["target"] = new JsonObject { ["index"] = 3 } },
        };
        using var request = V2Requests.Binary(ExplainRequests.ExplainUri("fp16"), header, [data]);

        using var response = await client.SendAsync(request);

        var text = await response.Content.ReadAsStringAsync();
        response.StatusCode.Should().Be(System.Net.HttpStatusCode.OK, text);
        var explained = new Explained(JsonDocument.Parse(text).RootElement);
        explained.Attributions("x").Should().Equal(0, 0, 0, 200);
        explained.Prediction.Should().Equal(200);
    }

    [Fact]
    public async Task Occlusion_PixelModel_PutsAllAttributionOnTheKnownPixels()
    {
        var reference = ReferenceCase.Zoo("pixels");
        using var client = await app.CreateReadyClientAsync();

        var explained = await ExplainRequests.PostAsync(client, "pixels", ExplainRequests.Body(reference, new JsonObject { ["window"] = 1 }));

        explained.Method.Should().Be("occlusion", "occlusion is the default for inputs of rank 3 and more");
        explained.Evaluations.Should().Be(2 * (64 + 2));
        explained.Attributions("image").Should().Equal(Expected(reference, "zeros"), (actual, expected) => Math.Abs(actual - expected) <= 1e-5);
    }

    [Fact]
    public async Task Occlusion_WindowOfFour_SpreadsEachDropOverItsWindowOnly()
    {
        var reference = ReferenceCase.Zoo("pixels");
        var exact = Expected(reference, "zeros");
        using var client = await app.CreateReadyClientAsync();

        var explained = await ExplainRequests.PostAsync(client, "pixels", ExplainRequests.Body(reference, new JsonObject { ["method"] = "occlusion", ["window"] = new JsonArray(2, 2) }));

        explained.Evaluations.Should().Be(2 * (16 + 2));
        var values = explained.Attributions("image");
        for (var i = 0; i < values.Length; i++)
        {
            // A pixel's 2x2 window holds the drop of the known pixel in it (if any), a quarter each.
            var (row, r, c) = (i / 64, i % 64 / 8, i % 8);
            var window = Enumerable.Range(0, 4).Sum(j => exact[(row * 64) + ((r / 2 * 2) + (j / 2)) * 8 + (c / 2 * 2) + (j % 2)]);
            values[i].Should().BeApproximately(window / 4, 1e-5, $"pixel {i}");
        }

        explained.ShouldBeAdditive(1e-4);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Tokens_OnlyTheTokenThatMatters_GetsAttribution(bool throughMask)
    {
        var reference = ReferenceCase.Zoo("token_one");
        using var client = await app.CreateReadyClientAsync();
        var parameters = new JsonObject { ["token_inputs"] = new JsonArray("tokens") };
        if (throughMask)
        {
            parameters["mask_input"] = "mask";
        }
        else
        {
            parameters["mask_value"] = 0;
        }

        var explained = await ExplainRequests.PostAsync(client, "token_one", ExplainRequests.Body(reference, parameters));

        explained.Method.Should().Be("tokens");
        explained.Evaluations.Should().Be(2 * (5 + 2));
        explained.HeldFixed.Should().Equal("mask");
        explained.Attributions("tokens").Should().Equal(Expected(reference, "tokens"), (actual, expected) => Math.Abs(actual - expected) <= 1e-6);
    }

    private static JsonElement Explain(ReferenceCase reference) =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(RepositoryPaths.Zoo, reference.Model, "reference.json"))).RootElement.GetProperty("explain").Clone();

    private static double[] Expected(ReferenceCase reference, string key) => ExplainRequests.Floats(Explain(reference).GetProperty(key).GetProperty("data"));
}
