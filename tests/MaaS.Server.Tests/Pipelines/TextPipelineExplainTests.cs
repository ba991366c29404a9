using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using MaaS.Server.Hosting;
using MaaS.Server.Tests.Explain;
using MaaS.Server.Tests.Infrastructure;

namespace MaaS.Server.Tests.Pipelines;

/// <summary>
/// Per-token explanations of a text-embedding pipeline model (<see cref="TinyTextPipelineApplication"/>): each token is
/// masked through the inner model's attention mask and each evaluation pooled with its own mask, so the attribution of a
/// token is how far the pipeline's embedding turns without it (1 - its cosine similarity to the embedding of the text).
/// The expected values are worked out by hand from the model's table.
/// </summary>
public sealed class TextPipelineExplainTests(TinyTextPipelineApplication app) : IClassFixture<TinyTextPipelineApplication>
{
    private static readonly Uri ExplainUri = ExplainRequests.ExplainUri(TinyTextPipelineApplication.Pipeline);

    [Fact]
    public async Task Explain_OnlyOneTokenMatters_PutsAllTheAttributionOnIt()
    {
        using var client = await app.CreateReadyClientAsync();

        var explained = await ExplainRequests.PostAsync(client, TinyTextPipelineApplication.Pipeline, Body(new JsonObject(), "The cat sat"));

        explained.Json.GetProperty("model_name").GetString().Should().Be(TinyTextPipelineApplication.Pipeline);
        explained.Method.Should().Be("tokens");
        explained.Parameters.GetProperty("target").GetProperty("output").GetString().Should().Be("embedding");
        explained.Parameters.GetProperty("target").GetProperty("similarity").GetString().Should().Be("cosine");
        explained.Prediction.Should().ContainSingle().Which.Should().BeApproximately(1, 1e-6);
        explained.BaselinePrediction.Should().Equal(0); // every token masked: the zero vector, similar to nothing
        explained.Evaluations.Should().Be(5 + 2);
        explained.HeldFixed.Should().BeEmpty();
        explained.Output("text").GetProperty("shape").EnumerateArray().Select(dim => dim.GetInt64()).Should().Equal(1, 5);
        explained.Attributions("text").Should().Equal([0, 0, 1, 0, 0], (a, e) => Math.Abs(a - e) < 1e-6);
        Tokens(explained).Should().Equal("[CLS]", "the", "cat", "sat", "[SEP]");
    }

    [Fact]
    public async Task Explain_TwoTextsTwoTokensThatMatter_EachTakesOneMinusTheSimilarityWithoutIt()
    {
        using var client = await app.CreateReadyClientAsync();

        var explained = await ExplainRequests.PostAsync(client, TinyTextPipelineApplication.Pipeline, Body(new JsonObject(), "the cat sat on the mat", "a cat"));

        // Row 0 pools (1, 1) / 8 -> (1, 1) / sqrt 2; without "cat" or "mat" it is (1, 0) or (0, 1): similarity 1 / sqrt 2.
        // Row 1 is padded to row 0's 8 tokens: its padding is not masked again and takes 0.
        var turn = 1 - (1 / Math.Sqrt(2));
        explained.Evaluations.Should().Be(2 * (8 + 2));
        explained.Output("text").GetProperty("shape").EnumerateArray().Select(dim => dim.GetInt64()).Should().Equal(2, 8);
        explained.Attributions("text").Should().Equal(
            [0, 0, turn, 0, 0, 0, turn, 0, /* row 1 */ 0, 0, 1, 0, 0, 0, 0, 0], (a, e) => Math.Abs(a - e) < 1e-6);
        Tokens(explained).Should().Equal("[CLS]", "the", "cat", "sat", "on", "the", "mat", "[SEP]", "[CLS]", "a", "cat", "[SEP]", "", "", "", "");
    }

    [Fact]
    public async Task Explain_WordPiecesAndUnknownWords_AreNamedAsTheVocabularyWritesThem()
    {
        using var client = await app.CreateReadyClientAsync();

        var explained = await ExplainRequests.PostAsync(client, TinyTextPipelineApplication.Pipeline, Body(new JsonObject(), "cats sat on a dog"));

        Tokens(explained).Should().Equal("[CLS]", "cat", "##s", "sat", "on", "a", "[UNK]", "[SEP]");
        explained.Attributions("text").Should().Equal([0, 1, 0, 0, 0, 0, 0, 0], (a, e) => Math.Abs(a - e) < 1e-6);
    }

    [Fact]
    public async Task Explain_TargetIndex_ExplainsThatDimensionOfTheEmbedding()
    {
        using var client = await app.CreateReadyClientAsync();

        var explained = await ExplainRequests.PostAsync(
            client, TinyTextPipelineApplication.Pipeline, Body(new JsonObject { ["target"] = new JsonObject { ["index"] = 1 } }, "the cat sat on the mat"));

        // Dimension 1 is "cat"'s: 1 / sqrt 2 with it, 0 without; without "mat" it grows to 1.
        explained.Parameters.GetProperty("target").GetProperty("index").EnumerateArray().Select(i => i.GetInt64()).Should().Equal(1);
        explained.Prediction.Should().ContainSingle().Which.Should().BeApproximately(1 / Math.Sqrt(2), 1e-6);
        explained.Attributions("text").Should().Equal([0, 0, 1 / Math.Sqrt(2), 0, 0, 0, (1 / Math.Sqrt(2)) - 1, 0], (a, e) => Math.Abs(a - e) < 1e-6);
    }

    [Fact]
    public async Task ExplainV1_TextPipeline_AnswersEachInstancesOwnTokens()
    {
        using var client = await app.CreateReadyClientAsync();

        using var response = await client.PostAsync(
            new Uri($"/v1/models/{TinyTextPipelineApplication.Pipeline}:explain", UriKind.Relative),
            V2Requests.Json("""{"instances": ["the cat sat", "a cat"]}"""));

        var text = await response.Content.ReadAsStringAsync();
        response.StatusCode.Should().Be(HttpStatusCode.OK, text);
        using var document = JsonDocument.Parse(text);
        var root = document.RootElement;
        ExplainRequests.Floats(root.GetProperty("predictions")).Should().Equal([1, 1], (a, e) => Math.Abs(a - e) < 1e-6);
        var explanations = root.GetProperty("explanations").EnumerateArray().ToList();
        ExplainRequests.Floats(explanations[0].GetProperty("text")).Should().Equal([0, 0, 1, 0, 0], (a, e) => Math.Abs(a - e) < 1e-6);
        explanations[0].GetProperty("tokens").EnumerateArray().Select(t => t.GetString()).Should().Equal("[CLS]", "the", "cat", "sat", "[SEP]");
        ExplainRequests.Floats(explanations[1].GetProperty("text")).Should().Equal([0, 0, 1, 0], (a, e) => Math.Abs(a - e) < 1e-6);
        explanations[1].GetProperty("tokens").EnumerateArray().Select(t => t.GetString()).Should().Equal("[CLS]", "a", "cat", "[SEP]");
    }

    [Theory]
    [InlineData("""{"method": "shapley"}""", "is a text pipeline: it is explained per token, with method \"tokens\" (the default), not \"shapley\"")]
    [InlineData("""{"method": "occlusion"}""", "not \"occlusion\"")]
    [InlineData("""{"token_inputs": ["input_ids"], "mask_input": "attention_mask"}""", "leave out 'token_inputs', 'mask_input' and 'mask_value'")]
    [InlineData("""{"baseline": 0.5}""", "'baseline' does not apply")]
    [InlineData("""{"target": {"output": "last_hidden_state"}}""", "unknown target output 'last_hidden_state'; model 'tiny' has one output, 'embedding'")]
    [InlineData("""{"target": {"index": 2}}""", "target index 2 is out of range: a row of output 'embedding' has 2 element(s)")]
    [InlineData("""{"method": "bogus"}""", "unknown explanation method 'bogus'")]
    public async Task Explain_WhatATextPipelineCannotTake_Returns400SayingWhy(string parameters, string error)
    {
        using var client = await app.CreateReadyClientAsync();

        using var response = await client.PostAsync(ExplainUri, V2Requests.Json(Body(JsonNode.Parse(parameters)!.AsObject(), "the cat sat")));

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await response.Content.ReadFromJsonAsync<ErrorResponse>())!.Error.Should().Contain(error);
    }

    [Fact]
    public async Task Explain_OverTheBudget_Returns400SayingHowManyItNeeds()
    {
        using var client = await app.CreateReadyClientAsync();
        var words = string.Join(' ', Enumerable.Repeat("cat", 12));

        using var response = await client.PostAsync(ExplainUri, V2Requests.Json(Body(new JsonObject(), words, words)));

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await response.Content.ReadFromJsonAsync<ErrorResponse>())!.Error.Should()
            .Contain($"this explanation needs 32 evaluations (2 row(s) x 16), over the server's budget of {TinyTextPipelineApplication.MaxEvaluations}");
    }

    [Fact]
    public async Task Explain_TextPipeline_CountsInThePipelinesOwnExplainStatistics()
    {
        using var client = await app.CreateReadyClientAsync();
        var before = await ExplainStatsAsync(client);

        await ExplainRequests.PostAsync(client, TinyTextPipelineApplication.Pipeline, Body(new JsonObject(), "the cat sat"));

        var after = await ExplainStatsAsync(client);
        after.Success.Should().Be(before.Success + 1);
        after.Evaluations.Should().Be(before.Evaluations + 7);
        (await ExplainStatsAsync(client, TinyTextPipelineApplication.Inner)).Success.Should().Be(0, "the inner model was not explained itself");
    }

    private static async Task<(long Success, long Evaluations)> ExplainStatsAsync(HttpClient client, string model = TinyTextPipelineApplication.Pipeline)
    {
        using var document = JsonDocument.Parse(await client.GetStringAsync(new Uri($"/v2/models/{model}/stats", UriKind.Relative)));
        var explain = document.RootElement.GetProperty("model_stats")[0].GetProperty("explain_stats");
        return (explain.GetProperty("success").GetProperty("count").GetInt64(), explain.GetProperty("evaluation_count").GetInt64());
    }

    private static JsonObject Body(JsonObject parameters, params string[] texts) => new()
    {
        ["inputs"] = new JsonArray(V2Requests.JsonInput("text", "BYTES", [texts.Length], new JsonArray([.. texts.Select(t => (JsonNode)t)]))),
        ["parameters"] = parameters,
    };

    private static string?[] Tokens(Explained explained)
    {
        var tokens = explained.Output("tokens");
        tokens.GetProperty("datatype").GetString().Should().Be("BYTES");
        return [.. tokens.GetProperty("data").EnumerateArray().Select(t => t.GetString())];
    }
}
