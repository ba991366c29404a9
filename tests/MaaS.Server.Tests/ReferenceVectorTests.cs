using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using MaaS.Server.Tests.Infrastructure;

namespace MaaS.Server.Tests;

/// <summary>The bundled models against PyTorch's outputs (models/tools/reference), over V2 JSON, V2 binary and KServe V1.</summary>
[Collection(BundledModelsGroup.Name)]
public sealed class ReferenceVectorTests(MaaSApplication app)
{
    private const double Tolerance = 1e-4;

    public static TheoryData<string, int> References => new()
    {
        { "mlp", 1 },
        { "cnn", 1 },
        { "rnn", 1 },
        { "rnn", 2 },
        { "transformer", 1 },
        { "linear", 1 },
        { "logistic", 1 },
    };

    // KServe V1 has no version in its path: it serves the latest version, so rnn's version 1 cannot be reached by it.
    public static TheoryData<string, int> LatestReferences => new()
    {
        { "mlp", 1 },
        { "cnn", 1 },
        { "rnn", 2 },
        { "transformer", 1 },
        { "linear", 1 },
        { "logistic", 1 },
    };

    [Theory]
    [MemberData(nameof(References))]
    public async Task InferV2Json_ReferenceInputs_MatchPyTorchOutputs(string model, int version)
    {
        var reference = ReferenceCase.Bundled(model, version);
        using var client = await app.CreateReadyClientAsync();

        using var response = await client.PostAsync(V2Requests.InferUri(model, version), V2Requests.Json(V2Requests.JsonBody(reference)));

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/json");
        var reply = await InferReply.ReadAsync(response);
        reply.Json.GetProperty("model_name").GetString().Should().Be(model);
        reply.Json.GetProperty("model_version").GetString().Should().Be(version.ToString(CultureInfo.InvariantCulture));
        reply.Binary.Should().BeEmpty();
        reply.Outputs.Should().HaveCount(reference.Outputs.Count);
        foreach (var expected in reference.Outputs)
        {
            reply.ShouldMatch(expected, Tolerance);
        }
    }

    [Theory]
    [MemberData(nameof(References))]
    public async Task InferV2Binary_AsTritonClientSendsIt_MatchesPyTorchOutputs(string model, int version)
    {
        var reference = ReferenceCase.Bundled(model, version);
        using var client = await app.CreateReadyClientAsync();
        using var request = V2Requests.Binary(V2Requests.InferUri(model, version), reference);
        request.Content!.Headers.ContentType.Should().BeNull("tritonclient.http sends no Content-Type");

        using var response = await client.SendAsync(request);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/octet-stream");
        var reply = await InferReply.ReadAsync(response);
        reply.Json.GetProperty("model_version").GetString().Should().Be(version.ToString(CultureInfo.InvariantCulture));
        reply.Binary.Keys.Should().BeEquivalentTo(reference.Outputs.Select(output => output.Name), "every output was requested as binary");
        foreach (var expected in reference.Outputs)
        {
            reply.ShouldMatch(expected, Tolerance);
        }
    }

    [Theory]
    [MemberData(nameof(LatestReferences))]
    public async Task PredictV1_ReferenceInstances_MatchPyTorchOutputs(string model, int version)
    {
        var reference = ReferenceCase.Bundled(model, version);
        using var client = await app.CreateReadyClientAsync();

        using var response = await client.PostAsync(V1Requests.PredictUri(model), V2Requests.Json(V1Requests.Body(reference)));

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var predictions = body.RootElement.GetProperty("predictions");
        predictions.GetArrayLength().Should().Be((int)reference.Inputs[0].Shape[0], "one prediction per instance");
        foreach (var expected in reference.Outputs)
        {
            V1Requests.Values(predictions, reference, expected).ShouldMatch(expected, Tolerance);
        }
    }

    [Fact]
    public async Task InferV2_WithoutVersion_RunsLatestVersion2()
    {
        var reference = ReferenceCase.Bundled("rnn", 2);
        using var client = await app.CreateReadyClientAsync();

        using var response = await client.PostAsync(V2Requests.InferUri("rnn"), V2Requests.Json(V2Requests.JsonBody(reference)));

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        var reply = await InferReply.ReadAsync(response);
        reply.Json.GetProperty("model_version").GetString().Should().Be("2");
        reply.ShouldMatch(reference.Outputs[0], Tolerance);
    }

    [Theory]
    [MemberData(nameof(References))]
    public async Task InferV2Json_NestedDataWithKeysInAnyOrder_MatchesPyTorchOutputs(string model, int version)
    {
        var reference = ReferenceCase.Bundled(model, version);
        var body = new JsonObject
        {
            ["inputs"] = new JsonArray(reference.Inputs.Select(input => (JsonNode)new JsonObject
            {
                ["data"] = V1Requests.Nested(input),
                ["shape"] = new JsonArray(input.Shape.Select(dim => (JsonNode)dim).ToArray()),
                ["datatype"] = input.Datatype,
                ["name"] = input.Name,
            }).ToArray()),
        };
        using var client = await app.CreateReadyClientAsync();

        using var response = await client.PostAsync(V2Requests.InferUri(model, version), V2Requests.Json(body));

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        var reply = await InferReply.ReadAsync(response);
        foreach (var expected in reference.Outputs)
        {
            reply.ShouldMatch(expected, Tolerance);
        }
    }

    [Fact]
    public async Task InferV2_BinaryAndJsonInputsMixed_MatchPyTorchOutputs()
    {
        var reference = ReferenceCase.Bundled("transformer", 1);
        var ids = reference.Inputs.Single(input => input.Name == "input_ids");
        var mask = reference.Inputs.Single(input => input.Name == "attention_mask");
        var blob = TensorValues.ToBinary(mask);
        var header = new JsonObject
        {
            ["inputs"] = new JsonArray(
                V2Requests.BinaryInput(mask.Name, mask.Datatype, mask.Shape, blob.Length),
                V2Requests.JsonInput(ids)),
            ["outputs"] = new JsonArray(V2Requests.BinaryOutput("embedding"), new JsonObject { ["name"] = "logits" }),
        };
        using var client = await app.CreateReadyClientAsync();
        using var request = V2Requests.Binary(V2Requests.InferUri("transformer"), header, [blob]);

        using var response = await client.SendAsync(request);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        var reply = await InferReply.ReadAsync(response);
        reply.Binary.Keys.Should().Equal("embedding");
        foreach (var expected in reference.Outputs)
        {
            reply.ShouldMatch(expected, Tolerance);
        }
    }

    [Theory]
    [MemberData(nameof(LatestReferences))]
    public async Task PredictV1_ColumnarInputs_MatchPyTorchOutputs(string model, int version)
    {
        var reference = ReferenceCase.Bundled(model, version);
        using var client = await app.CreateReadyClientAsync();

        using var response = await client.PostAsync(V1Requests.PredictUri(model), V2Requests.Json(V1Requests.ColumnBody(reference)));

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var predictions = body.RootElement.GetProperty("predictions");
        foreach (var expected in reference.Outputs)
        {
            V1Requests.Values(predictions, reference, expected).ShouldMatch(expected, Tolerance);
        }
    }

    [Fact]
    public async Task InferV2_ConcurrentRequestsOnEveryModel_EachMatchesItsReference()
    {
        var references = References.Select(row => ReferenceCase.Bundled((string)row[0], (int)row[1])).ToList();
        using var client = await app.CreateReadyClientAsync();

        // Binary and JSON requests interleaved: pooled request and response buffers must never leak between requests.
        var requests = Enumerable.Range(0, 64).Select(async i =>
        {
            var reference = references[i % references.Count];
            var uri = V2Requests.InferUri(reference.Model, reference.Version);
            using var request = i % 2 == 0
                ? V2Requests.Binary(uri, reference)
                : new HttpRequestMessage(HttpMethod.Post, uri) { Content = V2Requests.Json(V2Requests.JsonBody(reference)) };
            using var response = await client.SendAsync(request);
            response.StatusCode.Should().Be(HttpStatusCode.OK);
            return (reference, reply: await InferReply.ReadAsync(response));
        });

        foreach (var (reference, reply) in await Task.WhenAll(requests))
        {
            reply.Json.GetProperty("model_name").GetString().Should().Be(reference.Model);
            foreach (var expected in reference.Outputs)
            {
                reply.ShouldMatch(expected, Tolerance);
            }
        }
    }
}
