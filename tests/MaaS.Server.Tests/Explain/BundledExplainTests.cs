using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using MaaS.Server.Hosting;
using MaaS.Server.Tests.Infrastructure;

namespace MaaS.Server.Tests.Explain;

/// <summary>
/// Every method on the bundled models (models/: mlp, cnn, rnn, transformer) with their reference inputs: Shapley values add
/// up to f(x) - f(baseline) within 1e-4 (exact enumeration and KernelSHAP alike); occlusion and token masking, which
/// guarantee no sum, answer one finite attribution per element at the documented cost.
/// </summary>
[Collection(BundledModelsGroup.Name)]
public sealed class BundledExplainTests(MaaSApplication app)
{
    [Theory]
    [InlineData("mlp", """{"method": "shapley"}""", "exact", 16)]
    [InlineData("cnn", """{"method": "shapley", "window": 14}""", "exact", 16)]
    [InlineData("rnn", """{"method": "shapley", "samples": 120, "seed": 1}""", "kernel", 122)]
    public async Task Shapley_BundledModel_AddsUpToPredictionMinusBaseline(string model, string parameters, string estimator, int perRow)
    {
        var reference = ReferenceCase.Bundled(model, 1);
        using var client = await app.CreateReadyClientAsync();

        var explained = await ExplainRequests.PostAsync(client, model, ExplainRequests.Body(reference, JsonNode.Parse(parameters)!.AsObject()));

        explained.Parameters.GetProperty("estimator").GetString().Should().Be(estimator);
        explained.Evaluations.Should().Be((int)reference.Inputs[0].Shape[0] * perRow);
        explained.ShouldBeAdditive(1e-4);
        explained.Prediction.Should().NotContain(double.NaN);
    }

    [Fact]
    public async Task Shapley_ImageOf784Pixels_Returns400SuggestingGroupsOrOcclusion()
    {
        var reference = ReferenceCase.Bundled("cnn", 1);
        using var client = await app.CreateReadyClientAsync();

        using var response = await client.PostAsync(
            ExplainRequests.ExplainUri("cnn"), V2Requests.Json(ExplainRequests.Body(reference, new JsonObject { ["method"] = "shapley" })));

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await response.Content.ReadFromJsonAsync<ErrorResponse>())!.Error.Should()
            .Contain("method \"shapley\" handles at most 64 features per row and this request has 784; group elements into features with 'window'");
    }

    [Theory]
    [InlineData("mlp", "input", """{"method": "occlusion"}""", 4 + 2)]
    [InlineData("cnn", "image", "{}", 49 + 2)] // default window: ceil(28 / 8) = 4, so 7 x 7 windows
    [InlineData("rnn", "sequence", """{"window": [1, 8]}""", 5 + 2)]
    public async Task Occlusion_BundledModel_AnswersEveryElementAtItsCost(string model, string input, string parameters, int perRow)
    {
        var reference = ReferenceCase.Bundled(model, 1);
        using var client = await app.CreateReadyClientAsync();

        var explained = await ExplainRequests.PostAsync(client, model, ExplainRequests.Body(reference, JsonNode.Parse(parameters)!.AsObject()));

        explained.Method.Should().Be("occlusion");
        explained.Evaluations.Should().Be((int)reference.Inputs[0].Shape[0] * perRow);
        explained.Output(input).GetProperty("shape").EnumerateArray().Select(dim => dim.GetInt64()).Should().Equal(reference.Inputs[0].Shape);
        explained.Attributions(input).Should().HaveCount((int)reference.Inputs[0].Shape.Aggregate(1L, (a, b) => a * b))
            .And.OnlyContain(value => double.IsFinite(value)).And.Contain(value => value != 0);
    }

    [Fact]
    public async Task Tokens_Transformer_MasksEachTokenThroughTheAttentionMask()
    {
        var reference = ReferenceCase.Bundled("transformer", 1);
        using var client = await app.CreateReadyClientAsync();

        var explained = await ExplainRequests.PostAsync(client, "transformer", ExplainRequests.Body(reference, new JsonObject
        {
            ["method"] = "tokens",
            ["token_inputs"] = new JsonArray("input_ids"),
            ["mask_input"] = "attention_mask",
            ["target"] = new JsonObject { ["output"] = "logits" },
        }));

        explained.Evaluations.Should().Be(2 * (6 + 2));
        explained.HeldFixed.Should().Equal("attention_mask");
        explained.Parameters.GetProperty("target").GetProperty("output").GetString().Should().Be("logits");
        explained.Attributions("input_ids").Should().HaveCount(12).And.OnlyContain(value => double.IsFinite(value));
    }

    [Fact]
    public async Task Shapley_VersionAndLabelRoutes_ExplainTheAddressedVersion()
    {
        var reference = ReferenceCase.Bundled("rnn", 2);
        using var client = await app.CreateReadyClientAsync();
        var body = ExplainRequests.Body(reference, new JsonObject { ["method"] = "occlusion", ["window"] = new JsonArray(5, 8) });

        var explained = await ExplainRequests.PostAsync(client, "rnn", body, "/versions/2");

        explained.Json.GetProperty("model_version").GetString().Should().Be("2");
        explained.Evaluations.Should().Be((int)reference.Inputs[0].Shape[0] * 3);
    }
}
