namespace MaaS.Core.Explain;

/// <summary>
/// Boxes over one row of an input: <c>window</c> and <c>stride</c> are sizes along the row's trailing dims (one number:
/// the last two dims, or the last one of a rank-1 row); leading dims are covered whole. Positions step by the stride
/// from 0 while inside the row, and a box is clipped at the row's edge, so every element is covered.
/// </summary>
internal static class FeatureWindows
{
    /// <summary>Default window: an eighth of each trailing dim, rounded up (at most 8 x 8 windows per row).</summary>
    public const int DefaultFraction = 8;

    /// <summary>Each dim's window size and step for a row of <paramref name="rowShape"/> (leading dims: whole).</summary>
    public static WindowLayout Layout(string name, long[] rowShape, int[]? window, int[]? stride)
    {
        var rank = rowShape.Length;
        var trailing = window is { Length: > 1 } ? window.Length : Math.Min(rank, 2);
        if (trailing > rank)
        {
            throw ServingException.Invalid(
                $"'window' has {trailing} sizes but a row of input '{name}' has only {rank} dims ({string.Join('x', rowShape)})");
        }

        if (stride is { Length: > 1 } && stride.Length != trailing)
        {
            throw ServingException.Invalid($"'stride' has {stride.Length} sizes; give one, or one per window dim ({trailing})");
        }

        var sizes = new int[rank];
        var steps = new int[rank];
        for (var d = 0; d < rank; d++)
        {
            var dim = (int)rowShape[d];
            var t = d - (rank - trailing);
            sizes[d] = t < 0 ? dim : Math.Min(dim, Pick(window, t, (dim + DefaultFraction - 1) / DefaultFraction));
            steps[d] = t < 0 ? dim : Math.Max(Pick(stride, t, sizes[d]), 1);
        }

        return new WindowLayout(sizes, steps);
    }

    /// <summary>How many windows <see cref="Build"/> makes, without making them.</summary>
    public static long Count(long[] rowShape, WindowLayout layout)
    {
        long count = 1;
        for (var d = 0; d < rowShape.Length; d++)
        {
            count *= (rowShape[d] + layout.Steps[d] - 1) / layout.Steps[d];
        }

        return count;
    }

    public static List<Feature> Build(int input, long[] rowShape, WindowLayout layout)
    {
        var (sizes, steps) = (layout.Sizes, layout.Steps);
        var rank = rowShape.Length;
        var features = new List<Feature>();
        var origin = new int[rank];
        while (true)
        {
            features.Add(new Feature([new FeatureSegment(input, Box(rowShape, origin, sizes))]));
            var d = rank - 1;
            while (d >= 0)
            {
                origin[d] += steps[d];
                if (origin[d] < rowShape[d])
                {
                    break;
                }

                origin[d] = 0;
                d--;
            }

            if (d < 0)
            {
                return features;
            }
        }
    }

    /// <summary>Every element of the input as its own feature.</summary>
    public static List<Feature> Elements(int input, int count) =>
        [.. Enumerable.Range(0, count).Select(element => new Feature([new FeatureSegment(input, [element])]))];

    private static int Pick(int[]? sizes, int trailingIndex, int fallback) =>
        sizes is null ? fallback : sizes.Length == 1 ? sizes[0] : sizes[trailingIndex];

    private static int[] Box(long[] shape, int[] origin, int[] sizes)
    {
        var elements = new List<int>();
        var index = new int[shape.Length];
        while (true)
        {
            var flat = 0L;
            var inside = true;
            for (var d = 0; d < shape.Length; d++)
            {
                var at = origin[d] + index[d];
                inside &= at < shape[d];
                flat = (flat * shape[d]) + at;
            }

            if (inside)
            {
                elements.Add((int)flat);
            }

            var k = shape.Length - 1;
            while (k >= 0 && ++index[k] >= sizes[k])
            {
                index[k] = 0;
                k--;
            }

            if (k < 0)
            {
                return [.. elements];
            }
        }
    }
}
