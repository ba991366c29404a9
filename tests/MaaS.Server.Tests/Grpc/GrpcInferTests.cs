using Grpc.Core;
using Inference;
using MaaS.Server.Tests.Infrastructure;

namespace MaaS.Server.Tests.Grpc;

/// <summary>ModelInfer on every bundled model, raw and typed, against the HTTP answer to the same request.</summary>
[Collection(GrpcBundledGroup.Name)]
public sealed class GrpcInferTests(GrpcApplication app)
{
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

    [Theory]
    [MemberData(nameof(References))]
    public async Task ModelInfer_RawContents_MatchesHttp(string model, int version)
    {
        var reference = ReferenceCase.Bundled(model, version);
        var client = await app.CreateReadyGrpcClientAsync();

        var response = await client.ModelInferAsync(GrpcRequests.Raw(reference, model, version.ToString(System.Globalization.CultureInfo.InvariantCulture)));

        response.Id.Should().Be("grpc-test");
        await GrpcInferComparison.ShouldMatchHttpAsync(app, response, reference, model, version);
        foreach (var (output, i) in response.Outputs.Select((output, i) => (output, i)))
        {
            TensorValues.FromBinary(response.RawOutputContents[i].Span, output.Datatype)
                .ShouldMatch(reference.Outputs.Single(o => o.Name == output.Name), TensorValues.Tolerance(output.Datatype));
        }
    }

    [Theory]
    [MemberData(nameof(References))]
    public async Task ModelInfer_TypedContents_MatchesHttp(string model, int version)
    {
        var reference = ReferenceCase.Bundled(model, version);
        var client = await app.CreateReadyGrpcClientAsync();

        var response = await client.ModelInferAsync(GrpcRequests.Typed(reference, model, version.ToString(System.Globalization.CultureInfo.InvariantCulture)));

        await GrpcInferComparison.ShouldMatchHttpAsync(app, response, reference, model, version);
    }

    [Fact]
    public async Task ModelInfer_NoVersionAndNoOutputs_LatestVersionReturnsEveryOutput()
    {
        var reference = ReferenceCase.Bundled("rnn", 2);
        var client = await app.CreateReadyGrpcClientAsync();
        var request = GrpcRequests.Raw(reference, "rnn");
        request.Outputs.Clear();

        var response = await client.ModelInferAsync(request);

        response.ModelVersion.Should().Be("2");
        response.Outputs.Select(o => o.Name).Should().BeEquivalentTo(reference.Outputs.Select(o => o.Name));
    }

    [Fact]
    public async Task ModelInfer_UnknownModel_NotFoundWithTheHttpMessage()
    {
        var client = await app.CreateReadyGrpcClientAsync();

        var call = () => client.ModelInferAsync(new ModelInferRequest { ModelName = "nope" }).ResponseAsync;

        var error = (await call.Should().ThrowAsync<RpcException>()).Which;
        error.StatusCode.Should().Be(StatusCode.NotFound);
        error.Status.Detail.Should().Be("Request for unknown model: 'nope' is not found");
    }

    [Fact]
    public async Task ModelInfer_WrongShape_InvalidArgumentNamingTheInput()
    {
        var reference = ReferenceCase.Bundled("mlp", 1);
        var client = await app.CreateReadyGrpcClientAsync();
        var request = GrpcRequests.Raw(reference, "mlp");
        request.Inputs[0].Shape.Add(7);

        var call = () => client.ModelInferAsync(request).ResponseAsync;

        var error = (await call.Should().ThrowAsync<RpcException>()).Which;
        error.StatusCode.Should().Be(StatusCode.InvalidArgument);
        error.Status.Detail.Should().Contain($"input '{reference.Inputs[0].Name}' has shape");
    }

    [Fact]
    public async Task ModelInfer_RawAndTypedMixed_InvalidArgument()
    {
        var reference = ReferenceCase.Bundled("mlp", 1);
        var client = await app.CreateReadyGrpcClientAsync();
        var request = GrpcRequests.Raw(reference, "mlp");
        request.Inputs[0].Contents = GrpcRequests.Typed(reference, "mlp").Inputs[0].Contents;

        var call = () => client.ModelInferAsync(request).ResponseAsync;

        var error = (await call.Should().ThrowAsync<RpcException>()).Which;
        error.StatusCode.Should().Be(StatusCode.InvalidArgument);
        error.Status.Detail.Should().Contain("raw_input_contents");
    }

    [Fact]
    public async Task ModelInfer_RawSizeWrong_InvalidArgumentWithTheHttpMessage()
    {
        var reference = ReferenceCase.Bundled("mlp", 1);
        var client = await app.CreateReadyGrpcClientAsync();
        var request = GrpcRequests.Raw(reference, "mlp");
        request.RawInputContents[0] = Google.Protobuf.ByteString.CopyFrom(new byte[3]);

        var call = () => client.ModelInferAsync(request).ResponseAsync;

        var error = (await call.Should().ThrowAsync<RpcException>()).Which;
        error.StatusCode.Should().Be(StatusCode.InvalidArgument);
        error.Status.Detail.Should().StartWith($"input byte size mismatch for input '{reference.Inputs[0].Name}'");
    }

    [Fact]
    public async Task ModelInfer_UnknownLabel_NotFound()
    {
        var reference = ReferenceCase.Bundled("mlp", 1);
        var client = await app.CreateReadyGrpcClientAsync();
        var request = GrpcRequests.Raw(reference, "mlp");
        request.Parameters["label"] = new InferParameter { StringParam = "no-such-label" };

        var call = () => client.ModelInferAsync(request).ResponseAsync;

        (await call.Should().ThrowAsync<RpcException>()).Which.StatusCode.Should().Be(StatusCode.NotFound);
    }

    [Fact]
    public async Task ModelInfer_Classification_SameClassesAsHttp()
    {
        var reference = ReferenceCase.Bundled("mlp", 1);
        var client = await app.CreateReadyGrpcClientAsync();
        var request = GrpcRequests.Raw(reference, "mlp");
        request.Outputs[0].Parameters["classification"] = new InferParameter { Int64Param = 2 };
        var body = V2Requests.JsonBody(reference);
        body["outputs"] = new System.Text.Json.Nodes.JsonArray(new System.Text.Json.Nodes.JsonObject
        {
            ["name"] = "logits",
            ["parameters"] = new System.Text.Json.Nodes.JsonObject { ["classification"] = 2, ["binary_data"] = true },
        });
        using var http = app.CreateClient();
        using var httpResponse = await http.PostAsync(V2Requests.InferUri("mlp"), V2Requests.Json(body));
        var expected = await InferReply.ReadAsync(httpResponse);

        var response = await client.ModelInferAsync(request);

        response.Outputs[0].Datatype.Should().Be("BYTES");
        response.Outputs[0].Shape.Should().Equal(3, 2);
        response.RawOutputContents[0].ToByteArray().Should().Equal(expected.Binary["logits"]);
        TensorValues.FromBinary(response.RawOutputContents[0].Span, "BYTES").Cast<string>().Should().AllSatisfy(c => c.Split(':').Should().HaveCount(3));
    }
}
