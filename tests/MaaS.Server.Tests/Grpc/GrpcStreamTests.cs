using Grpc.Core;
using Inference;
using MaaS.Server.Tests.Infrastructure;

namespace MaaS.Server.Tests.Grpc;

/// <summary>
/// ModelStreamInfer: one answer per request, in the order sent, each with its request's id; a failed request answers
/// error_message and the stream goes on.
/// </summary>
[Collection(GrpcBundledGroup.Name)]
public sealed class GrpcStreamTests(GrpcApplication app)
{
    [Fact]
    public async Task ModelStreamInfer_InterleavedErrors_EachAnsweredWithItsIdAndTheStreamContinues()
    {
        var reference = ReferenceCase.Bundled("mlp", 1);
        var client = await app.CreateReadyGrpcClientAsync();
        var badShape = WithId(GrpcRequests.Raw(reference, "mlp"), "bad-shape");
        badShape.Inputs[0].Shape.Add(9);
        var requests = new[]
        {
            WithId(GrpcRequests.Raw(reference, "mlp"), "good-1"),
            new ModelInferRequest { ModelName = "nope", Id = "unknown-model" },
            WithId(GrpcRequests.Raw(reference, "mlp"), "good-2"),
            badShape,
            WithId(GrpcRequests.Raw(reference, "mlp"), "good-3"),
        };

        var answers = await StreamAsync(client, requests);

        answers.Select(a => a.InferResponse.Id).Should().Equal("good-1", "unknown-model", "good-2", "bad-shape", "good-3");
        answers.Select(a => a.ErrorMessage.Length == 0).Should().Equal(true, false, true, false, true);
        answers[1].ErrorMessage.Should().Be("Request for unknown model: 'nope' is not found");
        answers[3].ErrorMessage.Should().Contain("has shape");
        foreach (var answer in answers.Where(a => a.ErrorMessage.Length == 0))
        {
            await GrpcInferComparison.ShouldMatchHttpAsync(app, answer.InferResponse, reference, "mlp", 1);
        }
    }

    [Fact]
    public async Task ModelStreamInfer_MoreRequestsThanTheWindow_EveryOneAnsweredInOrderWithItsId()
    {
        // 50 requests, more than the 16 a stream runs at once, every third one failing: each is answered, in order.
        var reference = ReferenceCase.Bundled("mlp", 1);
        var client = await app.CreateReadyGrpcClientAsync();
        var requests = Enumerable.Range(0, 50).Select(i => i % 3 == 2
            ? new ModelInferRequest { ModelName = "nope", Id = $"r{i}" }
            : WithId(GrpcRequests.Raw(reference, "mlp"), $"r{i}")).ToList();

        var answers = await StreamAsync(client, requests);

        answers.Select(a => a.InferResponse.Id).Should().Equal(requests.Select(r => r.Id));
        answers.Select(a => a.ErrorMessage.Length > 0).Should().Equal(requests.Select(r => r.ModelName == "nope"));
        answers.Where(a => a.ErrorMessage.Length == 0).Should().AllSatisfy(a =>
            TensorValues.FromBinary(a.InferResponse.RawOutputContents[0].Span, "FP32").ShouldMatch(reference.Outputs[0], 1e-4));
    }

    private static ModelInferRequest WithId(ModelInferRequest request, string id)
    {
        request.Id = id;
        return request;
    }

    private static async Task<List<ModelStreamInferResponse>> StreamAsync(
        GRPCInferenceService.GRPCInferenceServiceClient client, IEnumerable<ModelInferRequest> requests)
    {
        using var call = client.ModelStreamInfer();
        foreach (var request in requests)
        {
            await call.RequestStream.WriteAsync(request);
        }

        await call.RequestStream.CompleteAsync();
        var answers = new List<ModelStreamInferResponse>();
        await foreach (var answer in call.ResponseStream.ReadAllAsync())
        {
            answers.Add(answer);
        }

        call.GetStatus().StatusCode.Should().Be(StatusCode.OK);
        return answers;
    }
}
