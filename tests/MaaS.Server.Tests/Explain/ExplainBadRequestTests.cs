using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using MaaS.Server.Hosting;
using MaaS.Server.Tests.Infrastructure;

namespace MaaS.Server.Tests.Explain;

/// <summary>What a client gets wrong in an explanation is a 400 {"error"} saying what was expected.</summary>
[Collection(ZooGroup.Name)]
public sealed class ExplainBadRequestTests(ZooApplication app)
{
    public static TheoryData<string, string, string> BadParameters => new()
    {
        { "linear", """{"method": "lime"}""", "unknown explanation method 'lime'" },
        { "linear", """{"target": {"output": "z"}}""", "unknown target output 'z'; the model's outputs are: y (FP32 [-1])" },
        { "multi_io", "{}", "target 'output' is required: the model has several outputs: sum (FP64 [-1,3]), prod (INT64 [-1]), flag (BOOL [-1])" },
        { "linear", """{"target": {"index": 1}}""", "target index 1 is out of range: a row of output 'y' has 1 element(s)" },
        { "linear", """{"baseline": [{"name": "x", "shape": [3], "data": [0, 0, 0]}]}""", "baseline 'x' has shape [3]; expected the input's shape [2,8] or one row's shape [8]" },
        { "linear", """{"baseline": [{"name": "w", "shape": [8], "data": [0, 0, 0, 0, 0, 0, 0, 0]}]}""", "baseline for unknown input 'w'" },
        { "linear_wide", """{"samples": 10}""", "KernelSHAP over 24 features needs at least 48 samples per row" },
        { "linear_wide", """{"samples": 4000}""", "this explanation needs 8004 evaluations (2 row(s) x 4002), over the server's budget of 4096 (MaaS:Explain:MaxEvaluations)" },
        { "pixels", """{"method": "shapley", "stride": 2}""", "'stride' applies to occlusion" },
        { "pixels", """{"window": [1, 2, 2, 2]}""", "'window' has 4 sizes but a row of input 'image' has only 3 dims" },
        { "token_one", """{"method": "tokens"}""", "method \"tokens\" needs 'token_inputs'" },
        { "token_one", """{"method": "tokens", "token_inputs": ["ids"]}""", "unknown token input 'ids'" },
        { "token_one", """{}""", "method \"shapley\" attributes floating-point inputs and this request has none" },
        { "token_one", """{"token_inputs": ["tokens"], "mask_input": "tokens"}""", "mask input 'tokens' must be another input" },
    };

    [Theory]
    [MemberData(nameof(BadParameters))]
    public async Task Explain_BadParameters_Returns400SayingWhatWasExpected(string model, string parameters, string error)
    {
        var reference = ReferenceCase.Zoo(model);
        using var client = await app.CreateReadyClientAsync();

        using var response = await client.PostAsync(
            ExplainRequests.ExplainUri(model), V2Requests.Json(ExplainRequests.Body(reference, JsonNode.Parse(parameters)!.AsObject())));

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await response.Content.ReadFromJsonAsync<ErrorResponse>())!.Error.Should().Contain(error);
    }

    [Fact]
    public async Task Infer_StructuredParameters_AreStillRefused()
    {
        var reference = ReferenceCase.Zoo("linear");
        using var client = await app.CreateReadyClientAsync();

        using var response = await client.PostAsync(
            V2Requests.InferUri("linear"), V2Requests.Json(ExplainRequests.Body(reference, new JsonObject { ["target"] = new JsonObject { ["index"] = 0 } })));

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await response.Content.ReadFromJsonAsync<ErrorResponse>())!.Error.Should().Contain("parameter 'target' has invalid type");
    }

    [Fact]
    public async Task Explain_UnknownModel_Returns404()
    {
        using var client = await app.CreateReadyClientAsync();

        using var response = await client.PostAsync(ExplainRequests.ExplainUri("nope"), V2Requests.Json("""{"inputs": []}"""));

        response.StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await response.Content.ReadFromJsonAsync<ErrorResponse>())!.Error.Should().Contain("'nope'");
    }
}
