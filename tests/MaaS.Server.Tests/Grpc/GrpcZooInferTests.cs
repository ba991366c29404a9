using MaaS.Server.Tests.Infrastructure;

namespace MaaS.Server.Tests.Grpc;

/// <summary>ModelInfer on the zoo (integer, BOOL, FP16, BYTES, no batch axis, rank 0) against the HTTP answer.</summary>
[Collection(GrpcZooGroup.Name)]
public sealed class GrpcZooInferTests(GrpcZooApplication app)
{
    public static TheoryData<string> AllModels => ["multi_io", "int_types", "no_batch", "no_batch_inferred", "seq_mask", "fp16", "strings", "scalar_out"];

    // FP16 has no typed contents field: it travels raw only.
    public static TheoryData<string> TypedModels => ["multi_io", "int_types", "no_batch", "no_batch_inferred", "seq_mask", "strings", "scalar_out"];

    [Theory]
    [MemberData(nameof(AllModels))]
    public async Task ModelInfer_RawContents_MatchesHttp(string model)
    {
        var reference = ReferenceCase.Zoo(model);
        var client = await app.CreateReadyGrpcClientAsync();

        var response = await client.ModelInferAsync(GrpcRequests.Raw(reference, model));

        await GrpcInferComparison.ShouldMatchHttpAsync(app, response, reference, model, null);
    }

    [Theory]
    [MemberData(nameof(TypedModels))]
    public async Task ModelInfer_TypedContents_MatchesHttp(string model)
    {
        var reference = ReferenceCase.Zoo(model);
        var client = await app.CreateReadyGrpcClientAsync();

        var response = await client.ModelInferAsync(GrpcRequests.Typed(reference, model));

        await GrpcInferComparison.ShouldMatchHttpAsync(app, response, reference, model, null);
    }
}
