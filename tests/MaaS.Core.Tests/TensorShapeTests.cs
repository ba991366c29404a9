using MaaS.Core.Tensors;

namespace MaaS.Core.Tests;

public sealed class TensorShapeTests
{
    [Theory]
    [InlineData(new long[0], 1L)]
    [InlineData(new long[] { 7 }, 7L)]
    [InlineData(new long[] { 2, 3, 4 }, 24L)]
    [InlineData(new long[] { 2, 0, 5 }, 0L)]
    [InlineData(new long[] { 0, long.MaxValue, long.MaxValue }, 0L)]
    [InlineData(new long[] { long.MaxValue }, long.MaxValue)]
    [InlineData(new long[] { 1L << 31, 1L << 31 }, 1L << 62)]
    public void ElementCount_ValidShape_ReturnsProduct(long[] shape, long expected)
    {
        TensorShape.ElementCount(shape).Should().Be(expected);
    }

    [Theory]
    [InlineData(new long[] { -1 })]
    [InlineData(new long[] { 2, -1, 3 })]
    [InlineData(new long[] { 0, -1 })]
    [InlineData(new long[] { 3, long.MinValue })]
    public void ElementCount_NegativeDim_ReturnsMinusOne(long[] shape)
    {
        TensorShape.ElementCount(shape).Should().Be(-1);
    }

    [Theory]
    [InlineData(new long[] { long.MaxValue, 2 })]
    [InlineData(new long[] { 1L << 32, 1L << 32 })]
    [InlineData(new long[] { 3037000500, 3037000500 })]
    [InlineData(new long[] { 1L << 62, 2 })]
    public void ElementCount_ProductOverflowsLong_ReturnsMinusOne(long[] shape)
    {
        TensorShape.ElementCount(shape).Should().Be(-1);
    }

    [Theory]
    [InlineData(new long[] { 2, 3 }, new long[] { 2, 3 })]
    [InlineData(new long[] { 5, 3 }, new long[] { -1, 3 })]
    [InlineData(new long[] { 5, 0 }, new long[] { -1, -1 })]
    [InlineData(new long[0], new long[0])]
    public void Matches_ShapeFittingSpec_ReturnsTrue(long[] shape, long[] spec)
    {
        TensorShape.Matches(shape, spec).Should().BeTrue();
    }

    [Theory]
    [InlineData(new long[] { 2, 4 }, new long[] { 2, 3 })]
    [InlineData(new long[] { 5, 4 }, new long[] { -1, 3 })]
    [InlineData(new long[] { 3 }, new long[] { -1, 3 })]
    [InlineData(new long[] { 1, 3, 1 }, new long[] { -1, 3 })]
    [InlineData(new long[0], new long[] { -1 })]
    [InlineData(new long[] { 1 }, new long[0])]
    public void Matches_DimOrRankDiffers_ReturnsFalse(long[] shape, long[] spec)
    {
        TensorShape.Matches(shape, spec).Should().BeFalse();
    }

    [Theory]
    [InlineData(new long[0], "[]")]
    [InlineData(new long[] { 4 }, "[4]")]
    [InlineData(new long[] { -1, 3, 224 }, "[-1,3,224]")]
    public void Format_Shape_WritesBracketedCommaList(long[] shape, string expected)
    {
        TensorShape.Format(shape).Should().Be(expected);
    }
}
