using MaaS.Core.Inference;
using MaaS.Core.Tensors;
using MaaS.Core.Tests.Infrastructure;

namespace MaaS.Core.Tests;

public sealed class ClassifierTests
{
    private static readonly string[] Labels = ["a", "b", "c"];

    private static (List<string> Elements, long[] Shape) Classify(
        TensorDataType type, byte[] data, long[] shape, bool batched, int k, IReadOnlyList<string>? labels = null)
    {
        var (buffer, resultShape) = Classifier.Classify(type, data, shape, batched, k, labels);
        using (buffer)
        {
            return (TensorBytes.ReadStrings(buffer.Span), resultShape);
        }
    }

    [Fact]
    public void Classify_BatchedFp32_TopKPerItemWithLabels()
    {
        var (elements, shape) = Classify(
            TensorDataType.Fp32, TensorBytes.Of(0.1f, 0.5f, 0.4f, 0.9f, 0.02f, 0.08f), [2, 3], batched: true, k: 2, Labels);

        shape.Should().Equal(2, 2);
        elements.Should().Equal("0.500000:1:b", "0.400000:2:c", "0.900000:0:a", "0.080000:2:c");
    }

    [Fact]
    public void Classify_EqualValues_KeepIndexOrder()
    {
        var (elements, _) = Classify(TensorDataType.Fp32, TensorBytes.Of(0.25f, 0.75f, 0.25f, 0.75f), [1, 4], batched: true, k: 4);

        elements.Should().Equal("0.750000:1", "0.750000:3", "0.250000:0", "0.250000:2");
    }

    [Fact]
    public void Classify_Fp32_FormatsSixDecimals()
    {
        var (elements, _) = Classify(TensorDataType.Fp32, TensorBytes.Of(-0.25f, 2f, 1e-7f), [3], batched: false, k: 3);

        elements.Should().Equal("2.000000:1", "0.000000:2", "-0.250000:0");
    }

    [Fact]
    public void Classify_Fp64_FormatsSixDecimals()
    {
        var (elements, _) = Classify(TensorDataType.Fp64, TensorBytes.Of(1.0 / 3, 123456.5), [2], batched: false, k: 2);

        elements.Should().Equal("123456.500000:1", "0.333333:0");
    }

    [Fact]
    public void Classify_Int32_FormatsPlainIntegers()
    {
        var (elements, _) = Classify(TensorDataType.Int32, TensorBytes.Of(3, -7, 10), [1, 3], batched: true, k: 3, Labels);

        elements.Should().Equal("10:2:c", "3:0:a", "-7:1:b");
    }

    [Fact]
    public void Classify_UInt8_FormatsPlainIntegers()
    {
        var (elements, _) = Classify(TensorDataType.UInt8, [200, 7], [2], batched: false, k: 1);

        elements.Should().Equal("200:0");
    }

    [Theory]
    [InlineData(1234567890123456L)] // exact as a double, but 16 significant digits
    [InlineData(9007199254740993L)] // 2^53 + 1: not representable as a double
    [InlineData(long.MaxValue)]
    public void Classify_Int64WithManyDigits_FormatsTheExactValue(long value)
    {
        var (elements, _) = Classify(TensorDataType.Int64, TensorBytes.Of(value, 1L), [2], batched: false, k: 1);

        elements.Should().Equal($"{value}:0");
    }

    [Fact]
    public void Classify_KLargerThanClassCount_ClampsToClassCount()
    {
        var (elements, shape) = Classify(TensorDataType.Fp32, TensorBytes.Of(1f, 2f, 3f, 6f, 5f, 4f), [2, 3], batched: true, k: 10);

        shape.Should().Equal(2, 3);
        elements.Should().HaveCount(6);
        elements.Take(3).Should().Equal("3.000000:2", "2.000000:1", "1.000000:0");
    }

    [Fact]
    public void Classify_Unbatched_ShapeIsK()
    {
        var (elements, shape) = Classify(TensorDataType.Fp32, TensorBytes.Of(0.2f, 0.7f, 0.1f), [3], batched: false, k: 2, Labels);

        shape.Should().Equal(2);
        elements.Should().Equal("0.700000:1:b", "0.200000:0:a");
    }

    [Fact]
    public void Classify_FewerLabelsThanClasses_OmitsMissingLabels()
    {
        var (elements, _) = Classify(TensorDataType.Fp32, TensorBytes.Of(0.1f, 0.9f), [1, 2], batched: true, k: 2, ["only"]);

        elements.Should().Equal("0.900000:1", "0.100000:0:only");
    }

    [Theory]
    [InlineData(TensorDataType.Fp32, true)]
    [InlineData(TensorDataType.Fp64, true)]
    [InlineData(TensorDataType.Int8, true)]
    [InlineData(TensorDataType.UInt64, true)]
    [InlineData(TensorDataType.Fp16, false)]
    [InlineData(TensorDataType.Bf16, false)]
    [InlineData(TensorDataType.Bool, false)]
    [InlineData(TensorDataType.Bytes, false)]
    public void Supports_Type_ReturnsExpected(TensorDataType type, bool expected)
    {
        Classifier.Supports(type).Should().Be(expected);
    }
}
