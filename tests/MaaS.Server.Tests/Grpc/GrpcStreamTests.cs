using Grpc.Core;
using Inference;
using MaaS.Server.Tests.Infrastructure;

namespace MaaS.Server.Tests.Grpc;

/// <summary>ModelStreamInfer: one answer per request, in order; a failed request answers error_message and the stream goes on.</summary>
[Collection(GrpcBundledGroup.Name)]
public sealed class GrpcStreamTests(GrpcApplication app)
{
    [Fact]
    public async Task ModelStreamInfer_InterleavedErrors_EachAnsweredAndTheStreamContinues()
    {
        var reference = ReferenceCase.Bundled("mlp", 1);
        var client = await app.CreateReadyGrpcClientAsync();
        var good = GrpcRequests.Raw(reference, "mlp");
        var badShape = GrpcRequests.Raw(reference, "mlp");
        badShape.Inputs[0].Shape.Add(9);
        var requests = new[] { good, new ModelInferRequest { ModelName = "nope" }, good, badShape, good };
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

        answers.Should().HaveCount(5);
        answers.Select(a => a.ErrorMessage.Length == 0).Should().Equal(true, false, true, false, true);
        answers[1].ErrorMessage.Should().Be("Request for unknown model: 'nope' is not found");
        answers[3].ErrorMessage.Should().Contain("has shape");
        foreach (var answer in answers.Where(a => a.ErrorMessage.Length == 0))
        {
            await GrpcInferComparison.ShouldMatchHttpAsync(app, answer.InferResponse, reference, "mlp", 1);
        }

        call.GetStatus().StatusCode.Should().Be(StatusCode.OK);
    }
}
