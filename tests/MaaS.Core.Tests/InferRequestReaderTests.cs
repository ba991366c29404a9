using System.Text;
using MaaS.Core.Inference;
using MaaS.Core.Tensors;
using MaaS.Core.Tests.Infrastructure;

namespace MaaS.Core.Tests;

public sealed class InferRequestReaderTests
{
    private const string X = """{"name":"x","datatype":"FP32","shape":[1,3],"data":[1,2,3]}""";
    private const string Ids = """{"name":"ids","datatype":"INT64","shape":[1,2],"data":[7,8]}""";

    /// <summary>Batch 8; x FP32 [3], ids INT64 [-1] -> y FP32 [2], h FP16 [2].</summary>
    private static readonly ModelSignature Signature = new(
        8,
        [new TensorSpec("x", TensorDataType.Fp32, [3]), new TensorSpec("ids", TensorDataType.Int64, [-1])],
        [new TensorSpec("y", TensorDataType.Fp32, [2]), new TensorSpec("h", TensorDataType.Fp16, [2])]);

    /// <summary>No batching; s BYTES [2], optional hf FP16 [2] -> y FP32 [1].</summary>
    private static readonly ModelSignature Unbatched = new(
        0,
        [new TensorSpec("s", TensorDataType.Bytes, [2]), new TensorSpec("hf", TensorDataType.Fp16, [2]) { Optional = true }],
        [new TensorSpec("y", TensorDataType.Fp32, [1])]);

    /// <summary>A request for output y only (h is FP16, which a JSON response cannot carry).</summary>
    private static string Body(params string[] inputs) => $$"""{"inputs":[{{string.Join(",", inputs)}}],"outputs":[{"name":"y"}]}""";

    private static string BodyWith(string extra, params string[] inputs) => $$"""{"inputs":[{{string.Join(",", inputs)}}],{{extra}}}""";

    private static InferRequest Read(string json, byte[]? binary = null, ModelSignature? signature = null) =>
        InferRequestReader.Read(Encoding.UTF8.GetBytes(json), binary ?? [], signature ?? Signature);

    private static void ShouldReject(string json, string messagePart, byte[]? binary = null, ModelSignature? signature = null)
    {
        var act = () => Read(json, binary, signature);
        var thrown = act.Should().Throw<ServingException>().Which;
        thrown.Kind.Should().Be(FailureKind.InvalidInput);
        thrown.Message.Should().Contain(messagePart);
    }

    [Fact]
    public void Read_JsonInputs_ParsesNameShapeAndBytes()
    {
        using var request = Read(
            """{"id":"r1","inputs":[{"name":"x","datatype":"FP32","shape":[2,3],"data":[[1,2,3],[4,5,6.5]]},{"name":"ids","datatype":"INT64","shape":[2,1],"data":[[7],[-8]]}],"outputs":[{"name":"y"}]}""");

        request.Id.Should().Be("r1");
        request.Inputs.Select(input => input.Name).Should().Equal("x", "ids");
        request.Inputs[0].DataType.Should().Be(TensorDataType.Fp32);
        request.Inputs[0].Shape.Should().Equal(2, 3);
        request.Inputs[0].Data.Span.ToArray().Should().Equal(TensorBytes.Of(1f, 2f, 3f, 4f, 5f, 6.5f));
        request.Inputs[1].DataType.Should().Be(TensorDataType.Int64);
        request.Inputs[1].Shape.Should().Equal(2, 1);
        request.Inputs[1].Data.Span.ToArray().Should().Equal(TensorBytes.Of(7L, -8L));
    }

    [Fact]
    public void Read_DataBeforeDatatypeAndShape_StillDecodes()
    {
        using var request = Read(Body(
            """{"data":[[1.5,2.5,3.5]],"name":"x","shape":[1,3],"datatype":"FP32"}""",
            """{"data":[9],"parameters":{},"shape":[1,1],"name":"ids","datatype":"INT64"}"""));

        request.Inputs[0].Data.Span.ToArray().Should().Equal(TensorBytes.Of(1.5f, 2.5f, 3.5f));
        request.Inputs[1].Data.Span.ToArray().Should().Equal(TensorBytes.Of(9L));
    }

    [Fact]
    public void Read_BinaryInputs_SlicedInTheOrderTheJsonListsThem()
    {
        var ids = TensorBytes.Of(10L, 20L);
        var x = TensorBytes.Of(0.5f, 1.5f, 2.5f);
        using var request = Read(
            Body(
                """{"name":"ids","datatype":"INT64","shape":[1,2],"parameters":{"binary_data_size":16}}""",
                """{"name":"x","datatype":"FP32","shape":[1,3],"parameters":{"binary_data_size":12}}"""),
            [.. ids, .. x]);

        request.Inputs.Select(input => input.Name).Should().Equal("ids", "x");
        request.Inputs[0].Data.Span.ToArray().Should().Equal(ids);
        request.Inputs[1].Data.Span.ToArray().Should().Equal(x);
    }

    [Fact]
    public void Read_JsonInputBeforeBinaryInput_OnlyTheBinaryInputConsumesBytes()
    {
        var ids = TensorBytes.Of(3L, 4L, 5L);
        using var request = Read(
            Body(X, """{"name":"ids","datatype":"INT64","shape":[1,3],"parameters":{"binary_data_size":24}}"""),
            ids);

        request.Inputs[0].Data.Span.ToArray().Should().Equal(TensorBytes.Of(1f, 2f, 3f));
        request.Inputs[1].Shape.Should().Equal(1, 3);
        request.Inputs[1].Data.Span.ToArray().Should().Equal(ids);
    }

    [Fact]
    public void Read_BinaryDataSizeZeroOnEmptyTensor_ConsumesNothing()
    {
        using var request = Read(
            Body(X, """{"name":"ids","datatype":"INT64","shape":[1,0],"parameters":{"binary_data_size":0}}"""));

        request.Inputs[1].Shape.Should().Equal(1, 0);
        request.Inputs[1].Data.Length.Should().Be(0);
    }

    [Fact]
    public void Read_MissingInput_ThrowsNamingIt()
    {
        ShouldReject(Body(X), "missing input 'ids'");
    }

    [Fact]
    public void Read_OptionalInputLeftOut_Accepted()
    {
        using var request = Read(Body("""{"name":"s","datatype":"BYTES","shape":[2],"data":["a","b"]}"""), signature: Unbatched);

        request.Inputs.Should().ContainSingle().Which.Data.Span.ToArray().Should().Equal(TensorBytes.Strings("a", "b"));
    }

    [Fact]
    public void Read_DuplicateInput_Throws()
    {
        ShouldReject(Body(X, Ids, X), "'x' appears more than once");
    }

    [Fact]
    public void Read_UnknownInput_ThrowsListingExpectedInputs()
    {
        ShouldReject(Body(X, Ids, """{"name":"z","datatype":"FP32","shape":[1],"data":[1]}"""), "unknown input 'z'");
        ShouldReject(Body(X, Ids, """{"name":"z","datatype":"FP32","shape":[1],"data":[1]}"""), "x (FP32 [-1,3]), ids (INT64 [-1,-1])");
    }

    [Fact]
    public void Read_InputWithoutName_Throws()
    {
        ShouldReject(Body("""{"datatype":"FP32","shape":[1,3],"data":[1,2,3]}""", Ids), "needs a \"name\"");
    }

    [Fact]
    public void Read_WrongDatatype_ThrowsNamingBoth()
    {
        ShouldReject(Body("""{"name":"x","datatype":"FP64","shape":[1,3],"data":[1,2,3]}""", Ids), "has datatype FP64; the model expects FP32");
    }

    [Fact]
    public void Read_UnknownDatatypeName_Throws()
    {
        ShouldReject(Body("""{"name":"x","datatype":"FLOAT","shape":[1,3],"data":[1,2,3]}""", Ids), "invalid datatype 'FLOAT'");
    }

    [Fact]
    public void Read_MissingShape_Throws()
    {
        ShouldReject(Body("""{"name":"x","datatype":"FP32","data":[1,2,3]}""", Ids), "needs a \"datatype\" and a \"shape\"");
    }

    [Theory]
    [InlineData("[1,4]")]
    [InlineData("[3]")]
    [InlineData("[1,3,1]")]
    [InlineData("[]")]
    public void Read_WrongShape_ThrowsWithExpectedShape(string shape)
    {
        ShouldReject(Body($$"""{"name":"x","datatype":"FP32","shape":{{shape}},"data":[1,2,3]}""", Ids), "the model expects [-1,3]");
    }

    [Fact]
    public void Read_BatchOverMax_Throws()
    {
        var data = string.Join(",", Enumerable.Repeat("1", 27));
        ShouldReject(
            Body($$"""{"name":"x","datatype":"FP32","shape":[9,3],"data":[{{data}}]}""", """{"name":"ids","datatype":"INT64","shape":[9,1],"data":[1,1,1,1,1,1,1,1,1]}"""),
            "batch size 9; the model accepts 1 to 8");
    }

    [Fact]
    public void Read_BatchZero_Throws()
    {
        ShouldReject(
            Body("""{"name":"x","datatype":"FP32","shape":[0,3],"data":[]}""", """{"name":"ids","datatype":"INT64","shape":[0,1],"data":[]}"""),
            "batch size 0");
    }

    [Fact]
    public void Read_BatchDiffersBetweenInputs_Throws()
    {
        ShouldReject(
            Body("""{"name":"x","datatype":"FP32","shape":[2,3],"data":[1,2,3,4,5,6]}""", Ids),
            "all inputs must share the batch size");
    }

    [Fact]
    public void Read_NegativeDim_Throws()
    {
        ShouldReject(Body("""{"name":"x","datatype":"FP32","shape":[-1,3],"data":[1,2,3]}""", Ids), "negative dimension");
    }

    [Theory]
    [InlineData("[1.5,3]")]
    [InlineData("""["1",3]""")]
    [InlineData("3")]
    public void Read_ShapeNotIntegers_Throws(string shape)
    {
        ShouldReject(Body($$"""{"name":"x","datatype":"FP32","shape":{{shape}},"data":[1,2,3]}""", Ids), "\"shape\" must be an array");
    }

    [Fact]
    public void Read_ShapeWithMoreThan16Dims_ReportsEveryDim()
    {
        var dims = string.Join(",", Enumerable.Range(1, 18));
        ShouldReject(Body(X, $$"""{"name":"ids","datatype":"INT64","shape":[{{dims}}],"data":[1]}"""), $"[{dims}]");
    }

    [Fact]
    public void Read_ElementCountFarAboveBodySize_ThrowsBeforeAllocating()
    {
        ShouldReject(
            Body(X, """{"name":"ids","datatype":"INT64","shape":[1,1000000000000],"data":[1]}"""),
            "holds 1000000000000 elements");
    }

    [Fact]
    public void Read_ShapeProductOverflowingLong_Throws()
    {
        ShouldReject(
            Body("""{"name":"x","datatype":"FP32","shape":[2,3],"data":[1,2,3,4,5,6]}""", """{"name":"ids","datatype":"INT64","shape":[2,9223372036854775807],"data":[1]}"""),
            "too many elements");
    }

    [Theory]
    [InlineData(2305843009213693952L, 0)] // 2^61 INT64 elements: 2^64 bytes, which wraps to 0 in a long
    [InlineData(2305843009213693953L, 8)] // 2^61 + 1 elements: wraps to 8
    public void Read_BinaryInputWhoseByteSizeOverflows_Throws(long dim, int binarySize)
    {
        ShouldReject(
            Body(X, """{"name":"ids","datatype":"INT64","shape":[1,""" + dim + """],"parameters":{"binary_data_size":""" + binarySize + "}}"),
            "ids",
            new byte[binarySize]);
    }

    [Fact]
    public void Read_BinaryShorterThanDeclared_Throws()
    {
        ShouldReject(
            Body(X, """{"name":"ids","datatype":"INT64","shape":[1,2],"parameters":{"binary_data_size":16}}"""),
            "unexpected size for input 'ids', expecting 16 additional bytes",
            new byte[8]);
    }

    [Fact]
    public void Read_BytesAfterLastBinaryInput_Throws()
    {
        ShouldReject(
            Body(X, """{"name":"ids","datatype":"INT64","shape":[1,2],"parameters":{"binary_data_size":16}}"""),
            "unexpected additional input data: 3 bytes",
            new byte[19]);
    }

    [Fact]
    public void Read_BinaryBodyWithOnlyJsonInputs_Throws()
    {
        ShouldReject(Body(X, Ids), "unexpected additional input data", new byte[4]);
    }

    [Fact]
    public void Read_BinarySizeNotMatchingShape_Throws()
    {
        ShouldReject(
            Body(X, """{"name":"ids","datatype":"INT64","shape":[1,2],"parameters":{"binary_data_size":12}}"""),
            "input byte size mismatch for input 'ids'",
            new byte[12]);
    }

    [Theory]
    [InlineData("""{"name":"x","datatype":"FP32","shape":[1,3],"data":[1,2,3],"parameters":{"binary_data_size":12}}""", 12)]
    [InlineData("""{"name":"x","datatype":"FP32","shape":[1,3]}""", 0)]
    public void Read_InputWithBothOrNeitherDataAndBinary_Throws(string x, int binarySize)
    {
        ShouldReject(Body(x, Ids), "exactly one of \"data\" or parameters.binary_data_size", new byte[binarySize]);
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("1.5")]
    [InlineData("\"12\"")]
    public void Read_BinaryDataSizeNotNonNegativeInteger_Throws(string size)
    {
        ShouldReject(
            Body("""{"name":"x","datatype":"FP32","shape":[1,3],"parameters":{"binary_data_size":""" + size + "}}", Ids),
            "binary_data_size must be a non-negative integer");
    }

    [Fact]
    public void Read_SharedMemoryInput_Throws()
    {
        ShouldReject(
            Body("""{"name":"x","datatype":"FP32","shape":[1,3],"parameters":{"shared_memory_region":"r"}}""", Ids),
            "shared memory");
    }

    [Fact]
    public void Read_BytesBinaryValid_KeepsLengthPrefixedForm()
    {
        var strings = TensorBytes.Strings("ab", "");
        using var request = Read(
            Body("""{"name":"s","datatype":"BYTES","shape":[2],"parameters":{"binary_data_size":""" + strings.Length + "}}"),
            strings,
            Unbatched);

        request.Inputs.Single().Data.Span.ToArray().Should().Equal(strings);
    }

    [Theory]
    [InlineData(new byte[] { 5, 0, 0, 0, (byte)'a', 1, 0, 0, 0, (byte)'b' })] // first length runs past the second element
    [InlineData(new byte[] { 1, 0, 0, 0, (byte)'a', 0xFF, 0xFF, 0xFF, 0xFF })] // second length runs past the end
    [InlineData(new byte[] { 1, 0, 0, 0, (byte)'a', 0, 0 })] // truncated length prefix
    public void Read_BytesBinaryWithBadLengthPrefix_Throws(byte[] serialized)
    {
        ShouldReject(
            Body("""{"name":"s","datatype":"BYTES","shape":[2],"parameters":{"binary_data_size":""" + serialized.Length + "}}"),
            "not a sequence of 4-byte length-prefixed elements",
            serialized,
            Unbatched);
    }

    [Fact]
    public void Read_BytesBinaryWithWrongElementCount_Throws()
    {
        var strings = TensorBytes.Strings("a", "b", "c");
        ShouldReject(
            Body("""{"name":"s","datatype":"BYTES","shape":[2],"parameters":{"binary_data_size":""" + strings.Length + "}}"),
            "BYTES data has 3 elements but shape [2] needs 2",
            strings,
            Unbatched);
    }

    [Fact]
    public void Read_Fp16InputAsJson_ThrowsPointingToBinary()
    {
        ShouldReject(
            Body("""{"name":"s","datatype":"BYTES","shape":[2],"data":["a","b"]}""", """{"name":"hf","datatype":"FP16","shape":[2],"data":[1,2]}"""),
            "binary",
            signature: Unbatched);
    }

    [Fact]
    public void Read_Fp16InputAsBinary_KeepsTheHalfBits()
    {
        var halves = TensorBytes.Of((Half)1.5f, (Half)(-2f));
        using var request = Read(
            Body("""{"name":"s","datatype":"BYTES","shape":[2],"data":["a","b"]}""", """{"name":"hf","datatype":"FP16","shape":[2],"parameters":{"binary_data_size":4}}"""),
            halves,
            Unbatched);

        request.Inputs[1].Data.Span.ToArray().Should().Equal(halves);
    }

    [Fact]
    public void Read_NoOutputsListed_ReturnsEveryOutputWithBinaryDataOutput()
    {
        using var request = Read(BodyWith("""  "parameters":{"binary_data_output":true}""", X, Ids));

        request.Outputs.Should().Equal(new RequestedOutput("y", true), new RequestedOutput("h", true));
    }

    [Fact]
    public void Read_NoOutputsListedAndNoBinaryDataOutput_RejectsTheFp16Output()
    {
        // h is FP16, which has no JSON form: left to default to JSON it would fail later, in the response writer.
        ShouldReject(Body(X, Ids).Replace(""","outputs":[{"name":"y"}]""", "", StringComparison.Ordinal), "'h' is FP16");
    }

    [Fact]
    public void Read_ListedOutputs_IgnoreBinaryDataOutput()
    {
        using var request = Read(BodyWith(
            """ "parameters":{"binary_data_output":true},"outputs":[{"name":"y"},{"name":"h","parameters":{"binary_data":true}}]""", X, Ids));

        request.Outputs.Should().Equal(new RequestedOutput("y", false), new RequestedOutput("h", true));
    }

    [Fact]
    public void Read_ListedOutputs_KeepRequestOrder()
    {
        using var request = Read(BodyWith(
            """ "outputs":[{"name":"h","parameters":{"binary_data":true}},{"name":"y","parameters":{"binary_data":false}}]""", X, Ids));

        request.Outputs.Select(output => output.Name).Should().Equal("h", "y");
    }

    [Fact]
    public void Read_OutputsBeforeInputs_Accepted()
    {
        using var request = Read("""{"outputs":[{"name":"y"}],"inputs":[""" + X + "," + Ids + "]}");

        request.Outputs.Should().Equal(new RequestedOutput("y", false));
        request.Inputs.Should().HaveCount(2);
    }

    [Fact]
    public void Read_UnknownOutput_Throws()
    {
        ShouldReject(BodyWith(""" "outputs":[{"name":"zz"}]""", X, Ids), "unknown output 'zz'");
    }

    [Fact]
    public void Read_DuplicateOutput_Throws()
    {
        ShouldReject(BodyWith(""" "outputs":[{"name":"y"},{"name":"y"}]""", X, Ids), "'y' is requested more than once");
    }

    [Fact]
    public void Read_ClassificationOnFp32_RecordsClassCount()
    {
        using var request = Read(BodyWith(""" "outputs":[{"name":"y","parameters":{"classification":2}}]""", X, Ids));

        request.Outputs.Should().Equal(new RequestedOutput("y", false, 2));
    }

    [Fact]
    public void Read_ClassificationOnFp16_Throws()
    {
        ShouldReject(
            BodyWith(""" "outputs":[{"name":"h","parameters":{"classification":2,"binary_data":true}}]""", X, Ids),
            "classification needs an integer, FP32 or FP64 output");
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("1.5")]
    [InlineData("\"2\"")]
    public void Read_ClassificationNotNonNegativeInteger_Throws(string k)
    {
        ShouldReject(BodyWith(""" "outputs":[{"name":"y","parameters":{"classification":""" + k + "}}]", X, Ids), "'classification' must be a non-negative integer");
    }

    [Theory]
    [InlineData("""{"name":"h"}""")]
    [InlineData("""{"name":"h","parameters":{"binary_data":false}}""")]
    public void Read_Fp16OutputRequestedAsJson_Throws(string output)
    {
        ShouldReject(BodyWith($$""" "outputs":[{{output}}]""", X, Ids), "'h' is FP16, which has no JSON form");
    }

    [Theory]
    [InlineData("triton_x")]
    [InlineData("triton_enable_empty_final_response")]
    public void Read_TritonReservedParameter_Throws(string key)
    {
        ShouldReject(BodyWith($$""" "parameters":{"{{key}}":1}""", X, Ids), $"'{key}' is reserved");
    }

    [Fact]
    public void Read_CustomParameters_Accepted()
    {
        using var request = Read(BodyWith(""" "parameters":{"sequence_id":7,"my_param":1.5,"tag":"a","flag":false,"binary_data_output":true}""", X, Ids));

        request.Inputs.Should().HaveCount(2);
    }

    [Fact]
    public void Read_BinaryDataOutputNotBoolean_Throws()
    {
        ShouldReject(BodyWith(""" "parameters":{"binary_data_output":1}""", X, Ids), "'binary_data_output' must be true or false");
    }

    [Theory]
    [InlineData("5")]
    [InlineData("null")]
    [InlineData("[\"a\"]")]
    public void Read_IdNotString_Throws(string id)
    {
        ShouldReject($$"""{"id":{{id}},"inputs":[{{X}},{{Ids}}],"outputs":[{"name":"y"}]}""", "\"id\" must be a string");
    }

    [Fact]
    public void Read_EmptyId_IsNull()
    {
        using var request = Read($$"""{"id":"","inputs":[{{X}},{{Ids}}],"outputs":[{"name":"y"}]}""");

        request.Id.Should().BeNull();
    }

    [Fact]
    public void Read_EscapedId_IsUnescaped()
    {
        using var request = Read($$"""{"id":"a\"b\u00e9","inputs":[{{X}},{{Ids}}],"outputs":[{"name":"y"}]}""");

        request.Id.Should().Be("a\"bé");
    }

    [Fact]
    public void Read_NoInputsArray_Throws()
    {
        ShouldReject("""{"id":"a"}""", "no \"inputs\" array");
    }

    [Theory]
    [InlineData("")]
    [InlineData(" ")]
    [InlineData("{")]
    [InlineData("""{"inputs":[""")]
    [InlineData("""{"inputs":[{"name":"x","datatype":"FP32","shape":[1,3],"data":[1,2,""")]
    [InlineData("""{"inputs":[}""")]
    [InlineData("""{"inputs":[{"name":"x",}]}""")]
    [InlineData("""{'inputs':[]}""")]
    [InlineData("nul")]
    public void Read_MalformedOrTruncatedJson_ThrowsInvalidInput(string json)
    {
        var act = () => Read(json);

        act.Should().Throw<ServingException>().Which.Kind.Should().Be(FailureKind.InvalidInput);
    }

    [Theory]
    [InlineData("[1]")]
    [InlineData("\"inputs\"")]
    [InlineData("null")]
    public void Read_BodyNotAnObject_Throws(string json)
    {
        ShouldReject(json, "must be a JSON object");
    }

    [Theory]
    [InlineData(" x")]
    [InlineData("{}")]
    [InlineData(",")]
    [InlineData(" []")]
    public void Read_ContentAfterTheObject_ThrowsInvalidInput(string trailing)
    {
        var act = () => Read(Body(X, Ids) + trailing);

        act.Should().Throw<ServingException>().Which.Kind.Should().Be(FailureKind.InvalidInput);
    }

    [Fact]
    public void Read_NestingDeeperThan100_ThrowsInvalidInput()
    {
        var deep = new string('[', 101) + "1" + new string(']', 101);
        var act = () => Read(Body(X, $$"""{"name":"ids","datatype":"INT64","shape":[1,1],"data":{{deep}}}"""));

        act.Should().Throw<ServingException>().Which.Kind.Should().Be(FailureKind.InvalidInput);
    }

    [Theory]
    [InlineData("name")]
    [InlineData("id")]
    [InlineData("output")]
    [InlineData("parameter")]
    public void Read_InvalidUtf8InAString_ThrowsInvalidInput(string where)
    {
        var json = where switch
        {
            "name" => Body("""{"name":"x@","datatype":"FP32","shape":[1,3],"data":[1,2,3]}""", Ids),
            "id" => $$"""{"id":"@","inputs":[{{X}},{{Ids}}],"outputs":[{"name":"y"}]}""",
            "output" => BodyWith(""" "outputs":[{"name":"y@"}]""", X, Ids),
            _ => BodyWith(""" "parameters":{"k@":1}""", X, Ids),
        };
        var utf8 = Encoding.UTF8.GetBytes(json);
        utf8[Array.IndexOf(utf8, (byte)'@')] = 0xFF;

        var act = () => InferRequestReader.Read(utf8, ReadOnlyMemory<byte>.Empty, Signature);

        act.Should().Throw<ServingException>().Which.Kind.Should().Be(FailureKind.InvalidInput);
    }

    [Fact]
    public void Read_LoneSurrogateEscapeInId_ThrowsInvalidInput()
    {
        var act = () => Read($$"""{"id":"\ud800","inputs":[{{X}},{{Ids}}],"outputs":[{"name":"y"}]}""");

        act.Should().Throw<ServingException>().Which.Kind.Should().Be(FailureKind.InvalidInput);
    }

    [Fact]
    public void Read_LoneSurrogateEscapeInBytesData_ThrowsInvalidInput()
    {
        var act = () => Read(Body("""{"name":"s","datatype":"BYTES","shape":[2],"data":["a","\udc00"]}"""), signature: Unbatched);

        act.Should().Throw<ServingException>().Which.Kind.Should().Be(FailureKind.InvalidInput);
    }

    private const string FullRequest =
        """{"id":"q","parameters":{"binary_data_output":true,"p":1},"inputs":[{"name":"x","datatype":"FP32","shape":[2,3],"data":[[1,2,3],[4,5,6]]},{"name":"ids","datatype":"INT64","shape":[2,2],"parameters":{"binary_data_size":32}}],"outputs":[{"name":"y","parameters":{"classification":1}},{"name":"h","parameters":{"binary_data":true}}]}""";

    private static readonly byte[] FullBinary = TensorBytes.Of(1L, 2L, 3L, 4L);

    [Fact]
    public void Read_FullRequest_IsValid()
    {
        using var request = Read(FullRequest, FullBinary);

        request.Inputs.Should().HaveCount(2);
        request.Outputs.Should().Equal(new RequestedOutput("y", false, 1), new RequestedOutput("h", true));
    }

    [Fact]
    public void Read_JsonTruncatedAtEveryByte_ThrowsOnlyServingException()
    {
        var json = Encoding.UTF8.GetBytes(FullRequest);
        var failures = new List<string>();
        for (var length = 0; length < json.Length; length++)
        {
            var outcome = Outcome(json[..length], FullBinary);
            if (outcome != "ServingException")
            {
                failures.Add($"{length}: {outcome}");
            }
        }

        failures.Should().BeEmpty("every strict prefix of the JSON object is invalid and must fail as a client error");
    }

    [Fact]
    public void Read_BinaryTruncatedAtEveryByte_ThrowsOnlyServingException()
    {
        var json = Encoding.UTF8.GetBytes(FullRequest);
        var failures = new List<string>();
        for (var length = 0; length < FullBinary.Length; length++)
        {
            var outcome = Outcome(json, FullBinary[..length]);
            if (outcome != "ServingException")
            {
                failures.Add($"{length}: {outcome}");
            }
        }

        failures.Should().BeEmpty();
    }

    [Fact]
    public void Read_RandomlyCorruptedRequests_ThrowOnlyServingException()
    {
        var original = Encoding.UTF8.GetBytes(FullRequest);
        var alphabet = Encoding.ASCII.GetBytes("{}[]\":,0123456789-.eE tfn\\u");
        var random = new Random(20240601);
        var failures = new List<string>();
        for (var attempt = 0; attempt < 5000; attempt++)
        {
            var json = (byte[])original.Clone();
            for (var edits = random.Next(1, 4); edits > 0; edits--)
            {
                // ASCII only: invalid UTF-8 has its own test (Read_InvalidUtf8InAString_ThrowsInvalidInput).
                json[random.Next(json.Length)] = random.Next(4) == 0 ? (byte)random.Next(32, 127) : alphabet[random.Next(alphabet.Length)];
            }

            var outcome = Outcome(json, FullBinary);
            if (outcome is not ("ok" or "ServingException"))
            {
                failures.Add($"{outcome} for {Encoding.UTF8.GetString(json)}");
            }
        }

        failures.Should().BeEmpty("a malformed request is the client's error, never a server exception");
    }

#pragma warning disable CA1031 // the fuzz tests record any exception type that escapes, to report it
    private static string Outcome(byte[] json, byte[] binary)
    {
        try
        {
            using var request = InferRequestReader.Read(json, binary, Signature);
            return "ok";
        }
        catch (ServingException ex) when (ex.Kind == FailureKind.InvalidInput)
        {
            return "ServingException";
        }
        catch (Exception ex)
        {
            return $"{ex.GetType().Name}: {ex.Message}";
        }
    }
#pragma warning restore CA1031
}
