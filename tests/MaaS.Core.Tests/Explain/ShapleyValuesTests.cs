using MaaS.Core.Explain;

namespace MaaS.Core.Tests.Explain;

public sealed class ShapleyValuesTests
{
    /// <summary>v(S) for a game whose Shapley values are known by hand: a linear part plus an interaction shared evenly.</summary>
    private static double Game(ulong present) =>
        (3.0 * Bit(present, 0)) - (2.0 * Bit(present, 1)) + (0.5 * Bit(present, 2)) + (4.0 * Bit(present, 0) * Bit(present, 3));

    private static double Bit(ulong mask, int i) => (mask >> i) & 1;

    [Fact]
    public void Exact_GameWithInteraction_SplitsTheInteractionEvenly()
    {
        var values = Enumerable.Range(0, 16).Select(mask => Game((ulong)mask)).ToArray();

        var phi = ShapleyValues.Exact(4, values);

        phi.Should().Equal([3.0 + 2.0, -2.0, 0.5, 2.0], (actual, expected) => Math.Abs(actual - expected) < 1e-12);
    }

    [Fact]
    public void Exact_OneFeature_GetsTheWholeDifference()
    {
        ShapleyValues.Exact(1, [1.5, 4.0]).Should().Equal(2.5);
    }

    [Fact]
    public void Kernel_LinearGame_RecoversTheWeightsAndAddsUpExactly()
    {
        var weights = Enumerable.Range(0, 30).Select(i => (i % 5) - 2.25).ToArray();
        double Linear(ulong present) => Enumerable.Range(0, 30).Sum(i => weights[i] * Bit(present, i));
        var masks = ShapleyValues.SampleCoalitions(30, 120, seed: 5);

        var phi = ShapleyValues.Kernel(30, masks, [.. masks.Select(Linear)], Linear(ShapleyValues.Full(30)), 0);

        phi.Should().Equal(weights, (actual, expected) => Math.Abs(actual - expected) < 1e-9);
    }

    [Fact]
    public void Kernel_NonLinearGame_AddsUpToFullMinusEmpty()
    {
        double Product(ulong present) => Math.Sin(present % 97) + (Bit(present, 3) * Bit(present, 17) * 5);
        var masks = ShapleyValues.SampleCoalitions(20, 64, seed: 1);

        var phi = ShapleyValues.Kernel(20, masks, [.. masks.Select(Product)], Product(ShapleyValues.Full(20)), Product(0));

        phi.Sum().Should().BeApproximately(Product(ShapleyValues.Full(20)) - Product(0), 1e-12);
    }

    [Fact]
    public void SampleCoalitions_SameSeed_SameCoalitionsInComplementaryPairs()
    {
        var first = ShapleyValues.SampleCoalitions(64, 50, seed: 9);
        var second = ShapleyValues.SampleCoalitions(64, 50, seed: 9);

        second.Should().Equal(first);
        for (var i = 0; i < first.Length; i += 2)
        {
            (first[i] ^ first[i + 1]).Should().Be(ulong.MaxValue, "each coalition is followed by its complement");
            first[i].Should().NotBe(0UL).And.NotBe(ulong.MaxValue, "the empty and full coalitions are known, not sampled");
        }

        ShapleyValues.SampleCoalitions(64, 50, seed: 10).Should().NotEqual(first);
    }
}
