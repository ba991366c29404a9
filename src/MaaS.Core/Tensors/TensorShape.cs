using System.Text;

namespace MaaS.Core.Tensors;

/// <summary>Arithmetic and formatting for shapes given as <c>long[]</c> (-1 marks a variable dimension in a spec).</summary>
internal static class TensorShape
{
    /// <summary>Product of the dimensions, or -1 when a dimension is negative or the product overflows a long.</summary>
    public static long ElementCount(ReadOnlySpan<long> shape)
    {
        long count = 1;
        foreach (var dim in shape)
        {
            if (dim < 0)
            {
                return -1;
            }

            if (dim != 0 && count > long.MaxValue / dim)
            {
                return -1;
            }

            count *= dim;
        }

        return count;
    }

    /// <summary>True when <paramref name="shape"/> fits <paramref name="spec"/>, where -1 in the spec matches any size.</summary>
    public static bool Matches(ReadOnlySpan<long> shape, ReadOnlySpan<long> spec)
    {
        if (shape.Length != spec.Length)
        {
            return false;
        }

        for (var i = 0; i < shape.Length; i++)
        {
            if (spec[i] >= 0 && spec[i] != shape[i])
            {
                return false;
            }
        }

        return true;
    }

    public static string Format(ReadOnlySpan<long> shape)
    {
        var builder = new StringBuilder("[");
        for (var i = 0; i < shape.Length; i++)
        {
            if (i > 0)
            {
                builder.Append(',');
            }

            builder.Append(shape[i]);
        }

        return builder.Append(']').ToString();
    }
}
