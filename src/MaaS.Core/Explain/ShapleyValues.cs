namespace MaaS.Core.Explain;

/// <summary>
/// Shapley values of a set function v over d features, where a coalition is a bit mask (bit i set: feature i keeps its
/// value, clear: it takes the baseline's). Exact by enumeration up to <see cref="MaxExactFeatures"/> features; KernelSHAP
/// (a weighted least squares over sampled coalitions, constrained to add up exactly) up to <see cref="MaxFeatures"/>.
/// </summary>
internal static class ShapleyValues
{
    public const int MaxExactFeatures = 12;

    public const int MaxFeatures = 64;

    public static ulong Full(int features) => features == 64 ? ulong.MaxValue : (1UL << features) - 1;

    /// <summary>
    /// Exact values from v of every coalition (<paramref name="values"/>[mask], 2^d entries):
    /// phi_i = sum over S without i of |S|! (d - |S| - 1)! / d! * (v(S + i) - v(S)).
    /// </summary>
    public static double[] Exact(int features, ReadOnlySpan<double> values)
    {
        if (features > MaxExactFeatures || values.Length != 1 << features)
        {
            throw new ArgumentOutOfRangeException(nameof(values), "exact Shapley values need v of all 2^d coalitions, d <= 12");
        }

        var weights = new double[features];
        for (var size = 0; size < features; size++)
        {
            weights[size] = 1.0 / (features * Binomial(features - 1, size));
        }

        var phi = new double[features];
        for (var mask = 0; mask < values.Length; mask++)
        {
            var size = System.Numerics.BitOperations.PopCount((uint)mask);
            for (var i = 0; i < features; i++)
            {
                if ((mask & (1 << i)) == 0)
                {
                    phi[i] += weights[size] * (values[mask | (1 << i)] - values[mask]);
                }
            }
        }

        return phi;
    }

    /// <summary>
    /// KernelSHAP's coalitions: <paramref name="samples"/> (even) masks, in complementary pairs, whose sizes s (1 to d-1)
    /// are drawn with the Shapley kernel's total weight per size, (d-1) / (s (d-s)), and whose members are uniform among
    /// the subsets of that size; deterministic for a seed.
    /// </summary>
    public static ulong[] SampleCoalitions(int features, int samples, int seed)
    {
        var random = new Random(seed);
        var cumulative = new double[features - 1];
        double total = 0;
        for (var size = 1; size < features; size++)
        {
            total += (features - 1.0) / (size * (features - size));
            cumulative[size - 1] = total;
        }

        var masks = new ulong[samples];
        var order = new int[features];
        for (var n = 0; n + 1 < samples; n += 2)
        {
            var draw = random.NextDouble() * total;
            var size = 1;
            while (size < features - 1 && cumulative[size - 1] < draw)
            {
                size++;
            }

            for (var i = 0; i < features; i++)
            {
                order[i] = i;
            }

            ulong mask = 0;
            for (var i = 0; i < size; i++)
            {
                var pick = i + random.Next(features - i);
                (order[i], order[pick]) = (order[pick], order[i]);
                mask |= 1UL << order[i];
            }

            masks[n] = mask;
            masks[n + 1] = Full(features) & ~mask;
        }

        return masks;
    }

    /// <summary>
    /// KernelSHAP: the phi that minimise sum_k (v(z_k) - v(0) - z_k . phi)^2 over the sampled coalitions (drawn with the
    /// kernel's weights, so each counts once), subject to sum phi = v(all) - v(0), which holds exactly (the last value
    /// is eliminated through the constraint).
    /// </summary>
    public static double[] Kernel(int features, IReadOnlyList<ulong> masks, IReadOnlyList<double> values, double full, double empty)
    {
        var delta = full - empty;
        var n = features - 1;
        var normal = new double[n, n];
        var right = new double[n];
        var row = new double[n];
        var last = 1UL << n;
        for (var k = 0; k < masks.Count; k++)
        {
            var zLast = (masks[k] & last) != 0 ? 1.0 : 0.0;
            var y = values[k] - empty - (zLast * delta);
            for (var i = 0; i < n; i++)
            {
                row[i] = ((masks[k] >> i) & 1) - zLast;
            }

            for (var i = 0; i < n; i++)
            {
                if (row[i] == 0)
                {
                    continue;
                }

                right[i] += row[i] * y;
                for (var j = 0; j < n; j++)
                {
                    normal[i, j] += row[i] * row[j];
                }
            }
        }

        var phi = Solve(normal, right);
        var sum = 0.0;
        foreach (var value in phi)
        {
            sum += value;
        }

        return [.. phi, delta - sum];
    }

    /// <summary>
    /// Gaussian elimination with partial pivoting. When the sampled coalitions leave the system singular (too few of them
    /// to tell some features apart), a small ridge makes it solvable: those features share their part evenly.
    /// </summary>
    private static double[] Solve(double[,] a, double[] b)
    {
        var scale = 1.0;
        for (var i = 0; i < b.Length; i++)
        {
            scale = Math.Max(scale, a[i, i]);
        }

        return TrySolve((double[,])a.Clone(), (double[])b.Clone(), 0, scale) ?? TrySolve(a, b, 1e-8 * scale, 0)!;
    }

    private static double[]? TrySolve(double[,] a, double[] b, double ridge, double singularBelow)
    {
        var n = b.Length;
        for (var i = 0; i < n; i++)
        {
            a[i, i] += ridge;
        }

        for (var column = 0; column < n; column++)
        {
            var pivot = column;
            for (var r = column + 1; r < n; r++)
            {
                if (Math.Abs(a[r, column]) > Math.Abs(a[pivot, column]))
                {
                    pivot = r;
                }
            }

            if (Math.Abs(a[pivot, column]) <= 1e-10 * singularBelow)
            {
                return null;
            }

            if (pivot != column)
            {
                for (var c = 0; c < n; c++)
                {
                    (a[column, c], a[pivot, c]) = (a[pivot, c], a[column, c]);
                }

                (b[column], b[pivot]) = (b[pivot], b[column]);
            }

            for (var r = column + 1; r < n; r++)
            {
                var factor = a[r, column] / a[column, column];
                if (factor == 0)
                {
                    continue;
                }

                for (var c = column; c < n; c++)
                {
                    a[r, c] -= factor * a[column, c];
                }

                b[r] -= factor * b[column];
            }
        }

        var x = new double[n];
        for (var r = n - 1; r >= 0; r--)
        {
            var sum = b[r];
            for (var c = r + 1; c < n; c++)
            {
                sum -= a[r, c] * x[c];
            }

            x[r] = sum / a[r, r];
        }

        return x;
    }

    private static double Binomial(int n, int k)
    {
        double result = 1;
        for (var i = 1; i <= k; i++)
        {
            result = result * (n - k + i) / i;
        }

        return result;
    }
}
