using Inference;
using MaaS.Server.Tests.Infrastructure;

namespace MaaS.Server.Tests.Grpc;

/// <summary>ModelInfer on the zoo (every datatype at its limits, BYTES, no batch axis, rank 0) against the HTTP answer.</summary>
[Collection(GrpcZooGroup.Name)]
public sealed class GrpcZooInferTests(GrpcZooApplication app)
{
    public static TheoryData<string> AllModels =>
        ["multi_io", "int_types", "no_batch", "no_batch_inferred", "seq_mask", "fp16", "strings", "scalar_out", "all_types", "all_types_no_fp16"];

    // FP16 has no typed contents field: it travels raw only, so a model with an FP16 input takes raw contents only.
    public static TheoryData<string> TypedModels =>
        ["multi_io", "int_types", "no_batch", "no_batch_inferred", "seq_mask", "strings", "scalar_out", "all_types_no_fp16"];

    [Theory]
    [MemberData(nameof(AllModels))]
    public async Task ModelInfer_RawContents_MatchesHttp(string model)
    {
        var reference = ReferenceCase.Zoo(model);
        var client = await app.CreateReadyGrpcClientAsync();

        var response = await client.ModelInferAsync(GrpcRequests.Raw(reference, model));

        await GrpcInferComparison.ShouldMatchHttpAsync(app, response, reference, model, null);
        ShouldMatchReference(response, reference);
    }

    [Theory]
    [MemberData(nameof(TypedModels))]
    public async Task ModelInfer_TypedContents_MatchesHttp(string model)
    {
        var reference = ReferenceCase.Zoo(model);
        var client = await app.CreateReadyGrpcClientAsync();

        var response = await client.ModelInferAsync(GrpcRequests.Typed(reference, model));

        await GrpcInferComparison.ShouldMatchHttpAsync(app, response, reference, model, null);
        ShouldMatchReference(response, reference);
    }

    private static void ShouldMatchReference(ModelInferResponse response, ReferenceCase reference)
    {
        response.Outputs.Select(output => output.Name).Should().BeEquivalentTo(reference.Outputs.Select(output => output.Name));
        for (var i = 0; i < response.Outputs.Count; i++)
        {
            var output = response.Outputs[i];
            var expected = reference.Outputs.Single(o => o.Name == output.Name);
            output.Datatype.Should().Be(expected.Datatype);
            output.Shape.Should().Equal(expected.Shape);
            TensorValues.FromBinary(response.RawOutputContents[i].Span, output.Datatype).ShouldMatch(expected, TensorValues.Tolerance(output.Datatype));
        }
    }
}
