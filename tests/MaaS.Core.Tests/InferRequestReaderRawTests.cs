using MaaS.Core.Inference;
using MaaS.Core.Tensors;
using MaaS.Core.Tests.Infrastructure;

namespace MaaS.Core.Tests;

/// <summary>Raw binary requests: the whole body is the only input's data.</summary>
public sealed class InferRequestReaderRawTests
{
    private static readonly ModelSignature Sequence = new(
        4,
        [new TensorSpec("seq", TensorDataType.Fp32, [-1, 2])],
        [new TensorSpec("y", TensorDataType.Fp32, [1]), new TensorSpec("z", TensorDataType.Int64, [1])]);

    [Fact]
    public void ReadRaw_BatchingModel_UsesBatchOneAndSizesTheVariableDim()
    {
        var body = TensorBytes.Of(1f, 2f, 3f, 4f, 5f, 6f);

        using var request = InferRequestReader.ReadRaw(body, Sequence);

        request.Inputs.Should().ContainSingle();
        request.Inputs[0].Shape.Should().Equal(1, 3, 2);
        request.Inputs[0].Data.Span.ToArray().Should().Equal(body);
    }

    [Fact]
    public void ReadRaw_AnyModel_ReturnsEveryOutputAsBinary()
    {
        using var request = InferRequestReader.ReadRaw(TensorBytes.Of(1f, 2f), Sequence);

        request.Outputs.Should().Equal(new RequestedOutput("y", true), new RequestedOutput("z", true));
    }

    [Fact]
    public void ReadRaw_FixedShapeWithoutBatch_NeedsTheExactSize()
    {
        var fixedShape = new ModelSignature(0, [new TensorSpec("x", TensorDataType.Int32, [2, 2])], [new TensorSpec("y", TensorDataType.Int32, [2])]);

        using var request = InferRequestReader.ReadRaw(TensorBytes.Of(1, 2, 3, 4), fixedShape);
        request.Inputs[0].Shape.Should().Equal(2, 2);

        var act = () => InferRequestReader.ReadRaw(TensorBytes.Of(1, 2, 3), fixedShape);
        act.Should().Throw<ServingException>().Which.Message.Should().Contain("12 bytes").And.Contain("INT32 [2,2]");
    }

    [Fact]
    public void ReadRaw_BodyNotAMultipleOfTheFixedPart_Throws()
    {
        var act = () => InferRequestReader.ReadRaw(new byte[12], Sequence);

        act.Should().Throw<ServingException>().Which.Kind.Should().Be(FailureKind.InvalidInput);
    }

    [Fact]
    public void ReadRaw_TwoVariableDims_Throws()
    {
        var twoVariable = new ModelSignature(0, [new TensorSpec("x", TensorDataType.Fp32, [-1, -1])], [new TensorSpec("y", TensorDataType.Fp32, [1])]);

        var act = () => InferRequestReader.ReadRaw(new byte[16], twoVariable);

        act.Should().Throw<ServingException>().Which.Message.Should().Contain("at most one variable dimension");
    }

    [Fact]
    public void ReadRaw_BytesInput_Throws()
    {
        var strings = new ModelSignature(4, [new TensorSpec("s", TensorDataType.Bytes, [1])], [new TensorSpec("y", TensorDataType.Bytes, [1])]);

        var act = () => InferRequestReader.ReadRaw("abc"u8.ToArray(), strings);

        act.Should().Throw<ServingException>().Which.Message.Should().Contain("BYTES");
    }
}
