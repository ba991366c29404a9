namespace MaaS.Core.Explain;

/// <summary>What the explained number of an evaluation is, given the row its readout yields.</summary>
internal abstract class ExplainTarget
{
    public abstract double Value(ExplainReadout readout, ForwardPasses.Slot slot, int row);

    /// <summary>The value for request row <paramref name="row"/> from its whole readout row.</summary>
    public abstract double OfRow(double[] values, int row);
}

/// <summary>Element <see cref="Index"/>[row] of the row (a class score, an embedding dimension).</summary>
internal sealed class ElementTarget(long[] index) : ExplainTarget
{
    public long[] Index => index;

    public override double Value(ExplainReadout readout, ForwardPasses.Slot slot, int row) =>
        readout.Element(slot.Run, slot.Output, slot.Index, slot.Count, index[row]);

    public override double OfRow(double[] values, int row) => values[index[row]];
}

/// <summary>
/// The cosine similarity of the row to the unperturbed row of the same request row (<paramref name="reference"/>): how much
/// of the output's direction is left. It is 1 for the request as sent; a zero vector has similarity 0 to anything.
/// </summary>
internal sealed class CosineTarget(double[][] reference) : ExplainTarget
{
    public override double Value(ExplainReadout readout, ForwardPasses.Slot slot, int row) =>
        Cosine(readout.Row(slot.Run, slot.Output, slot.Index, slot.Count), reference[row]);

    public override double OfRow(double[] values, int row) => Cosine(values, reference[row]);

    public static double Cosine(double[] a, double[] b)
    {
        double dot = 0, na = 0, nb = 0;
        for (var i = 0; i < a.Length; i++)
        {
            dot += a[i] * b[i];
            na += a[i] * a[i];
            nb += b[i] * b[i];
        }

        return na == 0 || nb == 0 ? 0 : dot / Math.Sqrt(na * nb);
    }
}
