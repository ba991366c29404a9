using System.Text;
using System.Text.Json;
using MaaS.Core.Tensors;
using MaaS.Core.Tests.Infrastructure;

namespace MaaS.Core.Tests;

public sealed class JsonTensorReaderTests
{
    /// <summary>Decodes <paramref name="json"/> as <paramref name="count"/> elements of <paramref name="type"/>, as the request readers do.</summary>
    private static byte[] Decode(string json, TensorDataType type, long count, string inputName = "x")
    {
        var utf8 = Encoding.UTF8.GetBytes(json);
        var reader = new Utf8JsonReader(utf8);
        reader.Read();
        var capacity = type == TensorDataType.Bytes ? utf8.Length + (4 * count) : count * type.ElementSize();
        var destination = new byte[capacity];
        var written = JsonTensorReader.Read(ref reader, type, count, destination, inputName);
        return destination[..written];
    }

    private static void ShouldReject(string json, TensorDataType type, long count, params string[] messageParts)
    {
        var act = () => Decode(json, type, count, "pixels");
        var thrown = act.Should().Throw<ServingException>().Which;
        thrown.Kind.Should().Be(FailureKind.InvalidInput);
        thrown.Message.Should().Contain("'pixels'");
        foreach (var part in messageParts)
        {
            thrown.Message.Should().Contain(part);
        }
    }

    [Theory]
    [InlineData("BOOL", "[true,false,true]", 3, "010001")]
    [InlineData("BOOL", "[[true],[false]]", 2, "0100")]
    [InlineData("UINT8", "[0,1,255]", 3, "0001FF")]
    [InlineData("UINT16", "[[1],[65535]]", 2, "0100FFFF")]
    [InlineData("UINT32", "[1,4294967295]", 2, "01000000FFFFFFFF")]
    [InlineData("UINT64", "[[18446744073709551615]]", 1, "FFFFFFFFFFFFFFFF")]
    [InlineData("INT8", "[-128,127,-1]", 3, "807FFF")]
    [InlineData("INT16", "[[-2],[256]]", 2, "FEFF0001")]
    [InlineData("INT32", "[-2147483648,2147483647]", 2, "00000080FFFFFF7F")]
    [InlineData("INT32", "[[[1,2]],[[3,-4]]]", 4, "0100000002000000" + "03000000FCFFFFFF")]
    [InlineData("INT64", "[-9223372036854775808,1099511627776]", 2, "0000000000000080" + "0000000000010000")]
    [InlineData("FP32", "[1.5,-2,0]", 3, "0000C03F" + "000000C0" + "00000000")]
    [InlineData("FP32", "[[1e-3]]", 1, "6F12833A")]
    [InlineData("FP64", "[[0.5],[-1]]", 2, "000000000000E03F" + "000000000000F0BF")]
    [InlineData("FP32", "2.5", 1, "00002040")]
    public void Read_FlatOrNestedData_WritesLittleEndianElements(string typeName, string json, long count, string expectedHex)
    {
        TensorDataTypes.TryParseProtocolName(typeName, out var type).Should().BeTrue();

        Decode(json, type, count).Should().Equal(Convert.FromHexString(expectedHex));
    }

    [Fact]
    public void Read_EmptyShapeWithEmptyData_WritesNothing()
    {
        Decode("[[],[]]", TensorDataType.Fp32, 0).Should().BeEmpty();
    }

    [Fact]
    public void Read_BytesStrings_WriteLengthPrefixAndUtf8()
    {
        Decode("""[["hello"],["wörld"],[""]]""", TensorDataType.Bytes, 3)
            .Should().Equal(TensorBytes.Strings("hello", "wörld", ""));
    }

    [Fact]
    public void Read_BytesWithEscapes_WritesUnescapedUtf8()
    {
        var bytes = Decode("""["a\"b","\u00e9","\\n\n"]""", TensorDataType.Bytes, 3);

        bytes.Should().Equal(TensorBytes.Strings("a\"b", "é", "\\n\n"));
        bytes[..7].Should().Equal(new byte[] { 3, 0, 0, 0, (byte)'a', (byte)'"', (byte)'b' });
        bytes[7..13].Should().Equal(new byte[] { 2, 0, 0, 0, 0xC3, 0xA9 });
    }

    [Fact]
    public void Read_BytesSurrogatePairEscape_WritesFourByteUtf8()
    {
        Decode("""["\ud83d\ude00"]""", TensorDataType.Bytes, 1).Should().Equal(new byte[] { 4, 0, 0, 0, 0xF0, 0x9F, 0x98, 0x80 });
    }

    [Fact]
    public void Read_BytesWithLoneSurrogateEscape_ThrowsInvalidInput()
    {
        // "\ud800" has no UTF-8 form: the client sent an invalid string, which is its error, not the server's.
        var act = () => Decode("""["\ud800"]""", TensorDataType.Bytes, 1, "pixels");

        act.Should().Throw<ServingException>().Which.Kind.Should().Be(FailureKind.InvalidInput);
    }

    [Theory]
    [InlineData("FP32", """["a"]""", "a string")]
    [InlineData("FP64", "[null]", "null")]
    [InlineData("INT32", "[true]", "true")]
    [InlineData("UINT8", """["1"]""", "a string")]
    [InlineData("BYTES", "[1]", "expected a string")]
    [InlineData("FP32", "[{}]", "an object")]
    public void Read_ElementOfWrongJsonKind_ThrowsNamingInput(string typeName, string json, string described)
    {
        TensorDataTypes.TryParseProtocolName(typeName, out var type).Should().BeTrue();

        ShouldReject(json, type, 1, described);
    }

    [Theory]
    [InlineData("INT32", "[1.5]")]
    [InlineData("INT32", "[1.0]")]
    [InlineData("INT64", "[1e2]")]
    [InlineData("UINT8", "[0.5]")]
    [InlineData("UINT64", "[2.5]")]
    public void Read_NonIntegerInIntegerType_Throws(string typeName, string json)
    {
        TensorDataTypes.TryParseProtocolName(typeName, out var type).Should().BeTrue();

        ShouldReject(json, type, 1, "integer");
    }

    [Theory]
    [InlineData("UINT8", "[300]")]
    [InlineData("UINT8", "[-1]")]
    [InlineData("INT8", "[128]")]
    [InlineData("INT8", "[-129]")]
    [InlineData("UINT16", "[65536]")]
    [InlineData("INT16", "[-32769]")]
    [InlineData("UINT32", "[-1]")]
    [InlineData("UINT32", "[4294967296]")]
    [InlineData("INT32", "[2147483648]")]
    [InlineData("INT32", "[-2147483649]")]
    [InlineData("INT64", "[9223372036854775808]")]
    [InlineData("INT64", "[-9223372036854775809]")]
    [InlineData("UINT64", "[-1]")]
    [InlineData("UINT64", "[18446744073709551616]")]
    [InlineData("FP32", "[1e39]")]
    [InlineData("FP32", "[-3.5e38]")]
    [InlineData("FP64", "[1e400]")]
    public void Read_OutOfRangeNumber_ThrowsOutOfRange(string typeName, string json)
    {
        TensorDataTypes.TryParseProtocolName(typeName, out var type).Should().BeTrue();

        ShouldReject(json, type, 1, "out of range", typeName);
    }

    [Theory]
    [InlineData("[1]")]
    [InlineData("[0]")]
    [InlineData("""["true"]""")]
    [InlineData("[null]")]
    public void Read_BoolOtherThanTrueOrFalse_Throws(string json)
    {
        ShouldReject(json, TensorDataType.Bool, 1, "true or false");
    }

    [Theory]
    [InlineData("[1,2,3]", 2)]
    [InlineData("[[1,2],[3]]", 2)]
    [InlineData("4", 0)]
    public void Read_MoreElementsThanShape_Throws(string json, long count)
    {
        ShouldReject(json, TensorDataType.Int32, count, "more elements");
    }

    [Theory]
    [InlineData("[1]", 2)]
    [InlineData("[[1],[2]]", 3)]
    [InlineData("[]", 1)]
    public void Read_FewerElementsThanShape_Throws(string json, long count)
    {
        ShouldReject(json, TensorDataType.Int32, count, $"needs {count}");
    }

    [Theory]
    [InlineData(TensorDataType.Fp16)]
    [InlineData(TensorDataType.Bf16)]
    public void Read_HalfPrecisionType_ThrowsPointingToBinary(TensorDataType type)
    {
        ShouldReject("[1.0]", type, 1, type.ToProtocolName(), "binary");
    }
}
