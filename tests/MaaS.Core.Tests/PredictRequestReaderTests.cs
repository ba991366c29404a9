using System.Text;
using MaaS.Core.Inference;
using MaaS.Core.Tensors;
using MaaS.Core.Tests.Infrastructure;

namespace MaaS.Core.Tests;

public sealed class PredictRequestReaderTests
{
    /// <summary>Batch 4; one input x FP32 [3] -> y FP32 [2].</summary>
    private static readonly ModelSignature SingleInput = new(
        4, [new TensorSpec("x", TensorDataType.Fp32, [3])], [new TensorSpec("y", TensorDataType.Fp32, [2])]);

    /// <summary>Batch 4; a FP32 [2], b INT64 [] (one scalar per row) -> y FP32 [2].</summary>
    private static readonly ModelSignature TwoInputs = new(
        4,
        [new TensorSpec("a", TensorDataType.Fp32, [2]), new TensorSpec("b", TensorDataType.Int64, [])],
        [new TensorSpec("y", TensorDataType.Fp32, [2])]);

    private static InferRequest Read(string json, ModelSignature signature) =>
        PredictRequestReader.Read(Encoding.UTF8.GetBytes(json), signature);

    private static void ShouldReject(string json, ModelSignature signature, string messagePart)
    {
        var act = () => Read(json, signature);
        var thrown = act.Should().Throw<ServingException>().Which;
        thrown.Kind.Should().Be(FailureKind.InvalidInput);
        thrown.Message.Should().Contain(messagePart);
    }

    [Fact]
    public void Read_InstanceRowsForSingleInput_StackIntoBatch()
    {
        using var request = Read("""{"instances":[[1,2,3],[4,5,6]]}""", SingleInput);

        var input = request.Inputs.Should().ContainSingle().Which;
        input.Name.Should().Be("x");
        input.DataType.Should().Be(TensorDataType.Fp32);
        input.Shape.Should().Equal(2, 3);
        input.Data.Span.ToArray().Should().Equal(TensorBytes.Of(1f, 2f, 3f, 4f, 5f, 6f));
        request.Outputs.Should().Equal(new RequestedOutput("y", false));
    }

    [Fact]
    public void Read_ObjectInstancesForSingleInput_StackIntoBatch()
    {
        using var request = Read("""{"instances":[{"x":[1,2,3]}]}""", SingleInput);

        request.Inputs.Single().Shape.Should().Equal(1, 3);
        request.Inputs.Single().Data.Span.ToArray().Should().Equal(TensorBytes.Of(1f, 2f, 3f));
    }

    [Fact]
    public void Read_ObjectInstancesForTwoInputs_StackEachInput()
    {
        using var request = Read("""{"instances":[{"a":[1,2],"b":5},{"b":6,"a":[3,4]}]}""", TwoInputs);

        request.Inputs.Select(input => input.Name).Should().Equal("a", "b");
        request.Inputs[0].Shape.Should().Equal(2, 2);
        request.Inputs[0].Data.Span.ToArray().Should().Equal(TensorBytes.Of(1f, 2f, 3f, 4f));
        request.Inputs[1].Shape.Should().Equal(2);
        request.Inputs[1].Data.Span.ToArray().Should().Equal(TensorBytes.Of(5L, 6L));
    }

    [Fact]
    public void Read_ColumnarInputsForSingleInput_TakesTheBatchedTensor()
    {
        using var request = Read("""{"inputs":[[1,2,3],[4,5,6],[7,8,9]]}""", SingleInput);

        request.Inputs.Single().Shape.Should().Equal(3, 3);
        request.Inputs.Single().Data.Span.ToArray().Should().Equal(TensorBytes.Of(1f, 2f, 3f, 4f, 5f, 6f, 7f, 8f, 9f));
    }

    [Fact]
    public void Read_ColumnarInputsObjectForTwoInputs_TakesEachTensor()
    {
        using var request = Read("""{"inputs":{"b":[7],"a":[[0.5,1.5]]}}""", TwoInputs);

        var a = request.Inputs.Single(input => input.Name == "a");
        a.Shape.Should().Equal(1, 2);
        a.Data.Span.ToArray().Should().Equal(TensorBytes.Of(0.5f, 1.5f));
        var b = request.Inputs.Single(input => input.Name == "b");
        b.Shape.Should().Equal(1);
        b.Data.Span.ToArray().Should().Equal(TensorBytes.Of(7L));
    }

    [Theory]
    [InlineData("""{"instances":[[1,2,3],[4,5]]}""")]
    [InlineData("""{"instances":[[1,2,3],4]}""")]
    [InlineData("""{"instances":[[1,2,3],[4,5,[6]]]}""")]
    [InlineData("""{"inputs":[[1,2,3],[4,5,6,7]]}""")]
    public void Read_RaggedArray_Throws(string json)
    {
        ShouldReject(json, SingleInput, "ragged");
    }

    [Fact]
    public void Read_InstanceMissingAnInput_ThrowsNamingRowAndInput()
    {
        ShouldReject("""{"instances":[{"a":[1,2],"b":5},{"a":[3,4]}]}""", TwoInputs, "instance 1 has no value for input 'b'");
    }

    [Fact]
    public void Read_FirstInstanceMissingAnInput_Throws()
    {
        ShouldReject("""{"instances":[{"a":[1,2]}]}""", TwoInputs, "'b'");
    }

    [Fact]
    public void Read_ColumnarObjectMissingAnInput_Throws()
    {
        ShouldReject("""{"inputs":{"a":[[1,2]]}}""", TwoInputs, "missing input 'b'");
    }

    [Fact]
    public void Read_ColumnarObjectWithUnknownInput_Throws()
    {
        ShouldReject("""{"inputs":{"a":[[1,2]],"b":[1],"c":[1]}}""", TwoInputs, "unknown input 'c'");
    }

    [Fact]
    public void Read_RowsForMultiInputModel_ThrowsAskingForObjects()
    {
        ShouldReject("""{"instances":[[1,2]]}""", TwoInputs, "send each instance as an object");
    }

    [Fact]
    public void Read_Fp16InputFromV1Numbers_ConvertsToHalfBits()
    {
        var signature = new ModelSignature(
            4, [new TensorSpec("h", TensorDataType.Fp16, [3])], [new TensorSpec("y", TensorDataType.Fp32, [2])]);

        using var request = Read("""{"instances":[[0.5,-2,65504]]}""", signature);

        request.Inputs.Single().DataType.Should().Be(TensorDataType.Fp16);
        request.Inputs.Single().Shape.Should().Equal(1, 3);
        request.Inputs.Single().Data.Span.ToArray().Should().Equal(Convert.FromHexString("0038" + "00C0" + "FF7B"));
    }

    [Fact]
    public void Read_Bf16InputFromV1Numbers_ConvertsToBf16Bits()
    {
        var signature = new ModelSignature(
            0, [new TensorSpec("h", TensorDataType.Bf16, [2])], [new TensorSpec("y", TensorDataType.Fp32, [2])]);

        using var request = Read("""{"inputs":[1,-2.5]}""", signature);

        request.Inputs.Single().Data.Span.ToArray().Should().Equal(Convert.FromHexString("803F" + "20C0"));
    }

    [Fact]
    public void Read_WrongInnerShape_ThrowsWithExpectedShape()
    {
        ShouldReject("""{"instances":[[1,2],[3,4]]}""", SingleInput, "the model expects [-1,3]");
    }

    [Fact]
    public void Read_MoreInstancesThanMaxBatch_Throws()
    {
        ShouldReject("""{"instances":[[1,2,3],[1,2,3],[1,2,3],[1,2,3],[1,2,3]]}""", SingleInput, "5 instances");
    }

    [Fact]
    public void Read_ColumnarInputsWithDifferentBatchSizes_Throws()
    {
        ShouldReject("""{"inputs":{"a":[[1,2],[3,4]],"b":[1]}}""", TwoInputs, "the same number for every input");
    }

    [Fact]
    public void Read_ColumnarInputsWithZeroRows_Throws()
    {
        // V2 refuses batch 0 for a batching model ("accepts 1 to N"); V1 should too.
        var signature = new ModelSignature(
            4, [new TensorSpec("s", TensorDataType.Fp32, [])], [new TensorSpec("y", TensorDataType.Fp32, [2])]);

        ShouldReject("""{"inputs":[]}""", signature, "1 to 4");
    }

    [Theory]
    [InlineData("""{"instances":[]}""")]
    [InlineData("""{"instances":{"x":[1,2,3]}}""")]
    public void Read_InstancesNotANonEmptyArray_Throws(string json)
    {
        ShouldReject(json, SingleInput, "non-empty array");
    }

    [Theory]
    [InlineData("""{"data":[[1,2,3]]}""")]
    [InlineData("""[[1,2,3]]""")]
    [InlineData("3")]
    public void Read_NeitherInstancesNorInputs_Throws(string json)
    {
        ShouldReject(json, SingleInput, "\"instances\"");
    }

    [Theory]
    [InlineData("")]
    [InlineData("""{"instances":[[1,2,3]]""")]
    [InlineData("""{"instances":[[1,2,3]]} x""")]
    public void Read_MalformedJson_ThrowsInvalidInput(string json)
    {
        var act = () => Read(json, SingleInput);

        act.Should().Throw<ServingException>().Which.Kind.Should().Be(FailureKind.InvalidInput);
    }

    [Fact]
    public void Read_InvalidUtf8InInputName_ThrowsInvalidInput()
    {
        var json = Encoding.UTF8.GetBytes("""{"inputs":{"a":[[1,2]],"@":[1]}}""");
        json[Array.IndexOf(json, (byte)'@')] = 0xFF;

        var act = () => PredictRequestReader.Read(json, TwoInputs);

        act.Should().Throw<ServingException>().Which.Kind.Should().Be(FailureKind.InvalidInput);
    }

    [Fact]
    public void Read_WrongElementType_ThrowsNamingInput()
    {
        ShouldReject("""{"instances":[{"a":[1,2],"b":1.5}]}""", TwoInputs, "'b'");
    }

    [Fact]
    public void Read_AllInputsOptionalAndNoneSent_NoServerException()
    {
        var signature = new ModelSignature(
            4,
            [new TensorSpec("a", TensorDataType.Fp32, [2]) { Optional = true }, new TensorSpec("b", TensorDataType.Fp32, [2]) { Optional = true }],
            [new TensorSpec("y", TensorDataType.Fp32, [2])]);

        var thrown = Record.Exception(() =>
        {
            using var request = Read("""{"inputs":{}}""", signature);
        });

        (thrown is null or ServingException).Should().BeTrue($"an empty request is the client's error, not a server fault; got {thrown}");
    }

    [Theory]
    [InlineData("""{"instances":[{"a":[1,2],"b":5},{"b":6,"a":[3,4]}]}""")]
    [InlineData("""{"inputs":{"b":[7,8],"a":[[0.5,1.5],[2,3]]}}""")]
    public void Read_RandomlyCorruptedRequests_ThrowOnlyServingException(string valid)
    {
        var original = Encoding.UTF8.GetBytes(valid);
        var alphabet = Encoding.ASCII.GetBytes("{}[]\":,0123456789-.eE tfnab");
        var random = new Random(7);
        var failures = new List<string>();
        for (var attempt = 0; attempt < 3000; attempt++)
        {
            var json = (byte[])original.Clone();
            for (var edits = random.Next(1, 4); edits > 0; edits--)
            {
                json[random.Next(json.Length)] = alphabet[random.Next(alphabet.Length)];
            }

            var thrown = Record.Exception(() => PredictRequestReader.Read(json, TwoInputs).Dispose());
            if (thrown is not (null or ServingException { Kind: FailureKind.InvalidInput }))
            {
                failures.Add($"{thrown.GetType().Name}: {thrown.Message} for {Encoding.UTF8.GetString(json)}");
            }
        }

        failures.Should().BeEmpty("a malformed request is the client's error, never a server exception");
    }
}
