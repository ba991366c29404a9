using Grpc.Core;
using Inference;
using MaaS.Server.Tests.Infrastructure;

namespace MaaS.Server.Tests.Grpc;

/// <summary>
/// Typed contents that do not fit their input (all_types_no_fp16 carries one input per datatype): a value out of a
/// narrow type's range, a field of another datatype, a count that does not match the shape, a datatype without a field.
/// Each is INVALID_ARGUMENT naming the input and what was expected, and the server keeps serving.
/// </summary>
[Collection(GrpcZooGroup.Name)]
public sealed class GrpcTypedContentsTests(GrpcZooApplication app)
{
    private const string Model = "all_types_no_fp16";

    [Theory]
    [InlineData("i8", 128, "input 'i8': contents.int_contents element 5 (128) is out of range for INT8")]
    [InlineData("i8", -129, "input 'i8': contents.int_contents element 5 (-129) is out of range for INT8")]
    [InlineData("i16", 32768, "input 'i16': contents.int_contents element 5 (32768) is out of range for INT16")]
    [InlineData("i16", -32769, "input 'i16': contents.int_contents element 5 (-32769) is out of range for INT16")]
    public async Task ModelInfer_SignedValueOutOfRange_InvalidArgumentNamingTheElement(string input, int value, string message)
    {
        var request = GrpcRequests.Typed(ReferenceCase.Zoo(Model), Model);
        Contents(request, input).IntContents[5] = value;

        await ShouldFailAsync(request, message);
    }

    [Theory]
    [InlineData("u8", 256u, "input 'u8': contents.uint_contents element 5 (256) is out of range for UINT8")]
    [InlineData("u16", 65536u, "input 'u16': contents.uint_contents element 5 (65536) is out of range for UINT16")]
    [InlineData("u16", uint.MaxValue, "input 'u16': contents.uint_contents element 5 (4294967295) is out of range for UINT16")]
    public async Task ModelInfer_UnsignedValueOutOfRange_InvalidArgumentNamingTheElement(string input, uint value, string message)
    {
        var request = GrpcRequests.Typed(ReferenceCase.Zoo(Model), Model);
        Contents(request, input).UintContents[5] = value;

        await ShouldFailAsync(request, message);
    }

    [Theory]
    [InlineData("i8", "INT8", "int_contents", "int64_contents")]
    [InlineData("u16", "UINT16", "uint_contents", "int_contents")]
    [InlineData("u64", "UINT64", "uint64_contents", "int64_contents")]
    [InlineData("i64", "INT64", "int64_contents", "uint64_contents")]
    [InlineData("f64", "FP64", "fp64_contents", "fp32_contents")]
    [InlineData("b", "BOOL", "bool_contents", "uint_contents")]
    public async Task ModelInfer_ValuesInAnotherDatatypesField_InvalidArgumentNamingBothFields(string input, string datatype, string field, string other)
    {
        var request = GrpcRequests.Typed(ReferenceCase.Zoo(Model), Model);
        var contents = Contents(request, input);
        contents.MergeFrom(OtherField(other));

        await ShouldFailAsync(request, $"input '{input}' is {datatype}, whose values go in contents.{field}, but the request sets contents.{other}");
    }

    [Fact]
    public async Task ModelInfer_FewerValuesThanTheShape_InvalidArgumentWithBothCounts()
    {
        var request = GrpcRequests.Typed(ReferenceCase.Zoo(Model), Model);
        Contents(request, "u32").UintContents.RemoveAt(0);

        await ShouldFailAsync(request, "input 'u32': its shape needs 6 elements but contents.uint_contents carries 5 values");
    }

    [Fact]
    public async Task ModelInfer_Fp16InTypedContents_InvalidArgumentSayingToSendItRaw()
    {
        var reference = ReferenceCase.Zoo("all_types");
        var request = GrpcRequests.Typed(new ReferenceCase("all_types", 1, [.. reference.Inputs.Where(i => i.Datatype != "FP16")], reference.Outputs), "all_types");
        request.Inputs.Insert(8, GrpcRequests.Input("f16", "FP16", [2, 3]));

        await ShouldFailAsync(request, "input 'f16' is FP16, which has no typed contents field; send it in raw_input_contents");
    }

    private static InferTensorContents Contents(ModelInferRequest request, string input) =>
        request.Inputs.Single(tensor => tensor.Name == input).Contents;

    private static InferTensorContents OtherField(string field)
    {
        var contents = new InferTensorContents();
        switch (field)
        {
            case "int_contents": contents.IntContents.Add(1); break;
            case "int64_contents": contents.Int64Contents.Add(1); break;
            case "uint_contents": contents.UintContents.Add(1); break;
            case "uint64_contents": contents.Uint64Contents.Add(1); break;
            case "fp32_contents": contents.Fp32Contents.Add(1); break;
            default: throw new ArgumentOutOfRangeException(nameof(field), field, null);
        }

        return contents;
    }

    private async Task ShouldFailAsync(ModelInferRequest request, string message)
    {
        var client = await app.CreateReadyGrpcClientAsync();

        var call = () => client.ModelInferAsync(request).ResponseAsync;

        var error = (await call.Should().ThrowAsync<RpcException>()).Which;
        error.StatusCode.Should().Be(StatusCode.InvalidArgument);
        error.Status.Detail.Should().Be(message);
        var reference = ReferenceCase.Zoo(Model);
        var good = await client.ModelInferAsync(GrpcRequests.Typed(reference, Model));
        good.Outputs.Should().HaveCount(reference.Outputs.Count, "a good request after a bad one still works");
    }
}
