using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using MaaS.Server.Hosting;
using MaaS.Server.Tests.Infrastructure;

namespace MaaS.Server.Tests;

/// <summary>
/// The zoo (tests/fixtures/zoo): several inputs and outputs, every datatype (all_types, at each type's limits), models without a
/// batch axis and a rank-0 output, each against its reference over V2 JSON, V2 binary and KServe V1.
/// </summary>
[Collection(ZooGroup.Name)]
public sealed class ZooReferenceTests(ZooApplication app)
{
    public static TheoryData<string> AllModels =>
        ["multi_io", "int_types", "no_batch", "no_batch_inferred", "seq_mask", "fp16", "strings", "scalar_out", "all_types", "all_types_no_fp16"];

    // FP16 has no JSON form in V2 (Triton refuses it): see the fp16 tests below, and all_types with FP16 as binary.
    public static TheoryData<string> JsonModels =>
        ["multi_io", "int_types", "no_batch", "no_batch_inferred", "seq_mask", "strings", "scalar_out", "all_types_no_fp16"];

    [Theory]
    [MemberData(nameof(JsonModels))]
    public async Task InferV2Json_ReferenceInputs_MatchReferenceOutputs(string model)
    {
        var reference = ReferenceCase.Zoo(model);
        using var client = await app.CreateReadyClientAsync();

        using var response = await client.PostAsync(V2Requests.InferUri(model), V2Requests.Json(V2Requests.JsonBody(reference)));

        response.StatusCode.Should().Be(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        var reply = await InferReply.ReadAsync(response);
        reply.Json.GetProperty("model_name").GetString().Should().Be(model);
        reply.Json.GetProperty("model_version").GetString().Should().Be("1");
        reply.Outputs.Should().HaveCount(reference.Outputs.Count);
        foreach (var expected in reference.Outputs)
        {
            reply.ShouldMatch(expected, TensorValues.Tolerance(expected.Datatype));
        }
    }

    [Fact]
    public async Task InferV2_AllTypesJsonWithFp16AsBinary_MatchesReferenceOutputs()
    {
        // Every datatype at its limits in one request: FP16 (input and output) binary, as V2 requires, the rest JSON.
        var reference = ReferenceCase.Zoo("all_types");
        var fp16 = reference.Inputs.Single(input => input.Datatype == "FP16");
        var blob = TensorValues.ToBinary(fp16);
        var header = new JsonObject
        {
            ["inputs"] = new JsonArray(reference.Inputs.Select(input => (JsonNode)(input == fp16
                ? V2Requests.BinaryInput(input.Name, input.Datatype, input.Shape, blob.Length)
                : V2Requests.JsonInput(input))).ToArray()),
            ["outputs"] = new JsonArray(reference.Outputs.Select(output => (JsonNode)new JsonObject
            {
                ["name"] = output.Name,
                ["parameters"] = new JsonObject { ["binary_data"] = output.Datatype == "FP16" },
            }).ToArray()),
        };
        using var client = await app.CreateReadyClientAsync();
        using var request = V2Requests.Binary(V2Requests.InferUri("all_types"), header, [blob]);

        using var response = await client.SendAsync(request);

        response.StatusCode.Should().Be(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        var reply = await InferReply.ReadAsync(response);
        reply.Binary.Keys.Should().Equal("f16_out");
        reply.Outputs.Should().HaveCount(reference.Outputs.Count);
        foreach (var expected in reference.Outputs)
        {
            reply.ShouldMatch(expected, TensorValues.Tolerance(expected.Datatype));
        }
    }

    [Theory]
    [MemberData(nameof(AllModels))]
    public async Task InferV2Binary_AsTritonClientSendsIt_MatchesReferenceOutputs(string model)
    {
        var reference = ReferenceCase.Zoo(model);
        using var client = await app.CreateReadyClientAsync();
        using var request = V2Requests.Binary(V2Requests.InferUri(model), reference);

        using var response = await client.SendAsync(request);

        response.StatusCode.Should().Be(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/octet-stream");
        var reply = await InferReply.ReadAsync(response);
        reply.Binary.Keys.Should().BeEquivalentTo(reference.Outputs.Select(output => output.Name));
        foreach (var expected in reference.Outputs)
        {
            reply.ShouldMatch(expected, TensorValues.Tolerance(expected.Datatype));
        }
    }

    [Theory]
    [MemberData(nameof(AllModels))]
    public async Task PredictV1_ReferenceInstances_MatchReferenceOutputs(string model)
    {
        var reference = ReferenceCase.Zoo(model);
        using var client = await app.CreateReadyClientAsync();

        using var response = await client.PostAsync(V1Requests.PredictUri(model), V2Requests.Json(V1Requests.Body(reference)));

        response.StatusCode.Should().Be(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var predictions = body.RootElement.GetProperty("predictions");
        foreach (var expected in reference.Outputs)
        {
            V1Requests.Values(predictions, reference, expected).ShouldMatch(expected, TensorValues.Tolerance(expected.Datatype));
        }
    }

    [Fact]
    public async Task InferV2Json_Fp16InputAsJson_Returns400NamingBinary()
    {
        var reference = ReferenceCase.Zoo("fp16");
        using var client = await app.CreateReadyClientAsync();
        var body = V2Requests.JsonBody(reference);
        body["outputs"] = new JsonArray(V2Requests.BinaryOutput("y"));

        using var response = await client.PostAsync(V2Requests.InferUri("fp16"), V2Requests.Json(body));

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        var error = (await response.Content.ReadFromJsonAsync<ErrorResponse>())!.Error;
        error.Should().Contain("'x'").And.Contain("FP16").And.Contain("binary");
    }

    [Fact]
    public async Task InferV2Json_Fp16OutputAsJson_Returns400NamingBinaryData()
    {
        var reference = ReferenceCase.Zoo("fp16");
        var blob = TensorValues.ToBinary(reference.Inputs[0]);
        var header = new JsonObject
        {
            ["inputs"] = new JsonArray(V2Requests.BinaryInput("x", "FP16", reference.Inputs[0].Shape, blob.Length)),
            ["outputs"] = new JsonArray(new JsonObject { ["name"] = "y" }),
        };
        using var client = await app.CreateReadyClientAsync();
        using var request = V2Requests.Binary(V2Requests.InferUri("fp16"), header, [blob]);

        using var response = await client.SendAsync(request);

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        var error = (await response.Content.ReadFromJsonAsync<ErrorResponse>())!.Error;
        error.Should().Contain("'y'").And.Contain("binary_data");
    }

    [Fact]
    public async Task InferV2_Fp16OutputNotListedAndNotBinary_Returns400NamingBinaryData()
    {
        var reference = ReferenceCase.Zoo("fp16");
        var blob = TensorValues.ToBinary(reference.Inputs[0]);
        var header = new JsonObject
        {
            ["inputs"] = new JsonArray(V2Requests.BinaryInput("x", "FP16", reference.Inputs[0].Shape, blob.Length)),
        };
        using var client = await app.CreateReadyClientAsync();
        using var request = V2Requests.Binary(V2Requests.InferUri("fp16"), header, [blob]);

        using var response = await client.SendAsync(request);

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        var error = (await response.Content.ReadFromJsonAsync<ErrorResponse>())!.Error;
        error.Should().Contain("'y'").And.Contain("FP16").And.Contain("binary");
    }

    [Fact]
    public async Task PredictV1_Fp16OutputOverflowsToInfinity_WritesInfinityToken()
    {
        // x * 2 overflows FP16's range (65504): JSON has no infinity, so the server writes the token Python's json reads.
        using var client = await app.CreateReadyClientAsync();

        using var response = await client.PostAsync(V1Requests.PredictUri("fp16"), V2Requests.Json("""{"instances":[[60000,-60000,1.5,2]]}"""));

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        (await response.Content.ReadAsStringAsync()).Should().Be("""{"predictions":[[Infinity,-Infinity,3,4]]}""");
    }
}
