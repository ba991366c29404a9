namespace MaaS.Core.Tests.Optimization;

/// <summary>Comparisons of a derived model's outputs with its source's.</summary>
internal static class OptimizationAssertions
{
    public static void SameSignature(Dictionary<string, TestOutput> source, Dictionary<string, TestOutput> derived)
    {
        derived.Keys.Should().BeEquivalentTo(source.Keys);
        foreach (var (name, expected) in source)
        {
            derived[name].Type.Should().Be(expected.Type, $"output {name} keeps its type");
            derived[name].Shape.Should().Equal(expected.Shape, $"output {name} keeps its shape");
        }
    }

    /// <summary>The smallest cosine similarity between matching rows (last axis) of two outputs.</summary>
    public static double MinRowCosine(TestOutput expected, TestOutput actual)
    {
        var width = expected.Shape.Length == 0 ? 1 : (int)expected.Shape[^1];
        var min = 1.0;
        for (var start = 0; start + width <= expected.Values.Length && width > 0; start += width)
        {
            var (dot, a, b) = (0.0, 0.0, 0.0);
            for (var i = start; i < start + width; i++)
            {
                dot += expected.Values[i] * actual.Values[i];
                a += expected.Values[i] * expected.Values[i];
                b += actual.Values[i] * actual.Values[i];
            }

            var cosine = a == 0 && b == 0 ? 1.0 : dot / Math.Sqrt(a * b);
            min = Math.Min(min, cosine);
        }

        return min;
    }

    /// <summary>max |expected - actual| / max(1, max |expected|).</summary>
    public static double RelativeMaxDiff(TestOutput expected, TestOutput actual)
    {
        var scale = Math.Max(1.0, expected.Values.Select(Math.Abs).DefaultIfEmpty(0).Max());
        return expected.Values.Zip(actual.Values, (a, b) => Math.Abs(a - b)).DefaultIfEmpty(0).Max() / scale;
    }
}
