using MaaS.Core.Inference;
using MaaS.Core.Tensors;

namespace MaaS.Core.Tests;

/// <summary>Pre-parsed tensors (gRPC) get the HTTP reader's checks and messages; outputs are binary.</summary>
public sealed class TensorRequestBuilderTests
{
    private static readonly ModelSignature Signature = new(
        4,
        [new TensorSpec("x", TensorDataType.Fp32, [3]), new TensorSpec("s", TensorDataType.Bytes, [-1])],
        [new TensorSpec("y", TensorDataType.Fp32, [2]), new TensorSpec("h", TensorDataType.Fp16, [2])]);

    [Fact]
    public void Build_RawInputs_EveryOutputBinaryIncludingFp16()
    {
        using var builder = new TensorRequestBuilder(Signature);
        builder.AddRawInput(builder.ValidateInput("x", "FP32", [2, 3]), [2, 3], new byte[24]);
        builder.AddRawInput(builder.ValidateInput("s", "BYTES", [2, 1]), [2, 1], new byte[] { 1, 0, 0, 0, 65, 0, 0, 0, 0 });

        using var request = builder.Build();

        request.Inputs.Select(i => i.Data.Length).Should().Equal(24, 9);
        request.Outputs.Should().Equal(new RequestedOutput("y", Binary: true), new RequestedOutput("h", Binary: true));
    }

    [Theory]
    [InlineData("x", "FP64", new long[] { 1, 3 }, "has datatype FP64; the model expects FP32")]
    [InlineData("x", "FLOAT", new long[] { 1, 3 }, "invalid datatype 'FLOAT'")]
    [InlineData("x", "FP32", new long[] { 1, 4 }, "has shape [1,4]")]
    [InlineData("x", "FP32", new long[] { 9, 3 }, "batch size 9")]
    [InlineData("x", "FP32", new long[] { 1, -3 }, "negative dimension")]
    [InlineData("z", "FP32", new long[] { 1, 3 }, "unknown input 'z'")]
    public void ValidateInput_Mismatch_Refused(string name, string datatype, long[] shape, string message)
    {
        using var builder = new TensorRequestBuilder(Signature);

        var validate = () => builder.ValidateInput(name, datatype, shape);

        validate.Should().Throw<ServingException>().Where(e => e.Kind == FailureKind.InvalidInput).WithMessage($"*{message}*");
    }

    [Fact]
    public void AddRawInput_WrongSize_RefusedWithTheBinaryMessage()
    {
        using var builder = new TensorRequestBuilder(Signature);
        var spec = builder.ValidateInput("x", "FP32", [1, 3]);

        var add = () => builder.AddRawInput(spec, [1, 3], new byte[11]);

        add.Should().Throw<ServingException>().WithMessage("input byte size mismatch for input 'x'*needs 12 bytes*");
    }

    [Fact]
    public void Build_MissingInput_Refused()
    {
        using var builder = new TensorRequestBuilder(Signature);
        builder.AddRawInput(builder.ValidateInput("x", "FP32", [1, 3]), [1, 3], new byte[12]);

        var build = () => builder.Build();

        build.Should().Throw<ServingException>().WithMessage("missing input 's'*");
    }

    [Fact]
    public void AddOutput_UnknownOrTwice_Refused()
    {
        using var builder = new TensorRequestBuilder(Signature);
        builder.AddOutput("y", 0);

        var twice = () => builder.AddOutput("y", 0);
        var unknown = () => builder.AddOutput("q", 0);

        twice.Should().Throw<ServingException>().WithMessage("*requested more than once*");
        unknown.Should().Throw<ServingException>().WithMessage("unknown output 'q'*");
    }
}
