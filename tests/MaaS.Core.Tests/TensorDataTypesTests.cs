using System.Text;
using MaaS.Core.Tensors;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace MaaS.Core.Tests;

public sealed class TensorDataTypesTests
{
    public static TheoryData<TensorDataType> AllTypes() => new(Enum.GetValues<TensorDataType>());

    // PROTOCOL.md §2, written out by hand so that a swapped entry in the code's tables shows.
    [Theory]
    [InlineData(TensorDataType.Bool, "BOOL", "TYPE_BOOL", 1, TensorElementType.Bool)]
    [InlineData(TensorDataType.UInt8, "UINT8", "TYPE_UINT8", 1, TensorElementType.UInt8)]
    [InlineData(TensorDataType.UInt16, "UINT16", "TYPE_UINT16", 2, TensorElementType.UInt16)]
    [InlineData(TensorDataType.UInt32, "UINT32", "TYPE_UINT32", 4, TensorElementType.UInt32)]
    [InlineData(TensorDataType.UInt64, "UINT64", "TYPE_UINT64", 8, TensorElementType.UInt64)]
    [InlineData(TensorDataType.Int8, "INT8", "TYPE_INT8", 1, TensorElementType.Int8)]
    [InlineData(TensorDataType.Int16, "INT16", "TYPE_INT16", 2, TensorElementType.Int16)]
    [InlineData(TensorDataType.Int32, "INT32", "TYPE_INT32", 4, TensorElementType.Int32)]
    [InlineData(TensorDataType.Int64, "INT64", "TYPE_INT64", 8, TensorElementType.Int64)]
    [InlineData(TensorDataType.Fp16, "FP16", "TYPE_FP16", 2, TensorElementType.Float16)]
    [InlineData(TensorDataType.Fp32, "FP32", "TYPE_FP32", 4, TensorElementType.Float)]
    [InlineData(TensorDataType.Fp64, "FP64", "TYPE_FP64", 8, TensorElementType.Double)]
    [InlineData(TensorDataType.Bytes, "BYTES", "TYPE_STRING", 0, TensorElementType.String)]
    [InlineData(TensorDataType.Bf16, "BF16", "TYPE_BF16", 2, TensorElementType.BFloat16)]
    public void Names_EveryType_MatchProtocolTable(TensorDataType type, string protocol, string config, int size, TensorElementType onnx)
    {
        type.ToProtocolName().Should().Be(protocol);
        type.ToConfigName().Should().Be(config);
        type.ElementSize().Should().Be(size);
        type.ToOnnx().Should().Be(onnx);
    }

    [Fact]
    public void Names_Table_CoversEveryEnumValue()
    {
        Enum.GetValues<TensorDataType>().Should().HaveCount(14);
    }

    [Theory]
    [MemberData(nameof(AllTypes))]
    public void TryParseProtocolName_StringOfEveryType_RoundTrips(TensorDataType type)
    {
        TensorDataTypes.TryParseProtocolName(type.ToProtocolName(), out var parsed).Should().BeTrue();
        parsed.Should().Be(type);
    }

    [Theory]
    [MemberData(nameof(AllTypes))]
    public void TryParseProtocolName_Utf8OfEveryType_RoundTrips(TensorDataType type)
    {
        TensorDataTypes.TryParseProtocolName(Encoding.UTF8.GetBytes(type.ToProtocolName()), out var parsed).Should().BeTrue();
        parsed.Should().Be(type);
    }

    [Theory]
    [MemberData(nameof(AllTypes))]
    public void TryParseConfigName_EveryType_RoundTrips(TensorDataType type)
    {
        TensorDataTypes.TryParseConfigName(type.ToConfigName(), out var parsed).Should().BeTrue();
        parsed.Should().Be(type);
    }

    [Theory]
    [MemberData(nameof(AllTypes))]
    public void TryFromOnnx_EveryType_RoundTrips(TensorDataType type)
    {
        TensorDataTypes.TryFromOnnx(type.ToOnnx(), out var parsed).Should().BeTrue();
        parsed.Should().Be(type);
    }

    [Fact]
    public void TryParseConfigName_TypeString_IsBytes()
    {
        TensorDataTypes.TryParseConfigName("TYPE_STRING", out var parsed).Should().BeTrue();
        parsed.Should().Be(TensorDataType.Bytes);
        TensorDataType.Bytes.ToConfigName().Should().Be("TYPE_STRING");
    }

    [Theory]
    [InlineData("")]
    [InlineData("fp32")]
    [InlineData("FLOAT")]
    [InlineData("FP32 ")]
    [InlineData("STRING")]
    [InlineData("TYPE_FP32")]
    [InlineData("BYTE")]
    public void TryParseProtocolName_UnknownName_ReturnsFalse(string name)
    {
        TensorDataTypes.TryParseProtocolName(name, out _).Should().BeFalse();
        TensorDataTypes.TryParseProtocolName(Encoding.UTF8.GetBytes(name), out _).Should().BeFalse();
    }

    [Theory]
    [InlineData("")]
    [InlineData("FP32")]
    [InlineData("TYPE_INVALID")]
    [InlineData("TYPE_BYTES")]
    [InlineData("type_fp32")]
    [InlineData("TYPE_FLOAT")]
    public void TryParseConfigName_UnknownName_ReturnsFalse(string name)
    {
        TensorDataTypes.TryParseConfigName(name, out _).Should().BeFalse();
    }

    [Theory]
    [InlineData(TensorElementType.Complex64)]
    [InlineData(TensorElementType.Complex128)]
    [InlineData(TensorElementType.DataTypeMax)]
    public void TryFromOnnx_TypeTheProtocolCannotCarry_ReturnsFalse(TensorElementType onnx)
    {
        TensorDataTypes.TryFromOnnx(onnx, out _).Should().BeFalse();
    }
}
