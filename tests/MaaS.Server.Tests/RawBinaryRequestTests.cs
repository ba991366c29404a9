using System.Net;
using System.Net.Http.Json;
using MaaS.Server.Hosting;
using MaaS.Server.Tests.Infrastructure;

namespace MaaS.Server.Tests;

/// <summary>Inference-Header-Content-Length: 0 — the body is the raw data of the model's only input, every output comes back binary.</summary>
[Collection(BundledModelsGroup.Name)]
public sealed class RawBinaryRequestTests(MaaSApplication app)
{
    [Fact]
    public async Task Infer_RawBodyForSingleInputModel_ReturnsBinaryOutputsMatchingPyTorch()
    {
        var reference = ReferenceCase.Bundled("mlp", 1);
        var firstRow = TensorValues.ToBinary(reference.Inputs[0])[..16];
        using var client = await app.CreateReadyClientAsync();

        using var response = await client.SendAsync(RawRequest("mlp", firstRow));

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        var reply = await InferReply.ReadAsync(response);
        var logits = reply.Output("logits");
        logits.GetProperty("shape").EnumerateArray().Select(dim => dim.GetInt64()).Should().Equal(1, 3);
        var expected = TensorValues.Of(reference.Outputs[0]).Take(3).Cast<double>().ToList();
        TensorValues.FromBinary(reply.Binary["logits"], "FP32").Cast<double>().Should()
            .Equal(expected, (actual, wanted) => Math.Abs(actual - wanted) < 1e-4);
    }

    [Fact]
    public async Task Infer_RawBodyWithVariableDim_SizesItFromTheBody()
    {
        var reference = ReferenceCase.Bundled("rnn", 2);
        var sequenceLength = (int)reference.Inputs[0].Shape[1];
        var firstSequence = TensorValues.ToBinary(reference.Inputs[0])[..(sequenceLength * 8 * 4)];
        using var client = await app.CreateReadyClientAsync();

        using var response = await client.SendAsync(RawRequest("rnn", firstSequence));

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        var reply = await InferReply.ReadAsync(response);
        var expected = TensorValues.Of(reference.Outputs[0]).Take(4).Cast<double>().ToList();
        TensorValues.FromBinary(reply.Binary["output"], "FP32").Cast<double>().Should()
            .Equal(expected, (actual, wanted) => Math.Abs(actual - wanted) < 1e-4);
    }

    [Fact]
    public async Task Infer_RawBodyNotAMultipleOfTheRow_Returns400()
    {
        using var client = await app.CreateReadyClientAsync();

        using var response = await client.SendAsync(RawRequest("mlp", new byte[15]));

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await response.Content.ReadFromJsonAsync<ErrorResponse>())!.Error.Should().Contain("15 bytes").And.Contain("FP32 [-1,4]");
    }

    [Fact]
    public async Task Infer_RawBodyForModelWithTwoInputs_Returns400()
    {
        using var client = await app.CreateReadyClientAsync();

        using var response = await client.SendAsync(RawRequest("transformer", new byte[16]));

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await response.Content.ReadFromJsonAsync<ErrorResponse>())!.Error.Should().Contain("exactly one input");
    }

    private static HttpRequestMessage RawRequest(string model, byte[] body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, V2Requests.InferUri(model)) { Content = V2Requests.Raw(body) };
        request.Headers.TryAddWithoutValidation(V2Requests.HeaderLength, "0");
        return request;
    }
}
