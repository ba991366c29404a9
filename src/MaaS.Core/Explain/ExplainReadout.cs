using MaaS.Core.Inference;

namespace MaaS.Core.Explain;

/// <summary>
/// How the numbers an explanation looks at are read from one run of the model: which output the run asks for, and the
/// row each slot of the run yields. For a plain model that is the output's row; a pipeline model applies its
/// post-processing there (a text embedding pools the token states with the slot's own, perturbed, attention mask), so
/// the explained function is the pipeline's output, not the inner model's.
/// </summary>
public abstract class ExplainReadout
{
    /// <summary>The model output each run requests.</summary>
    public abstract string Output { get; }

    /// <summary>
    /// The row of slot <paramref name="slot"/> of a run of <paramref name="slots"/> rows: <paramref name="run"/> holds the
    /// inputs the slot ran with (perturbed), <paramref name="output"/> the run's output.
    /// </summary>
    public abstract double[] Row(InferRequest run, InferOutput output, int slot, int slots);

    /// <summary>Element <paramref name="index"/> of that row; override to read it without building the whole row.</summary>
    public virtual double Element(InferRequest run, InferOutput output, int slot, int slots, long index) => Row(run, output, slot, slots)[index];
}

/// <summary>A plain model's readout: the output's row as the model wrote it.</summary>
internal sealed class ModelOutputReadout(string output) : ExplainReadout
{
    public override string Output => output;

    public override double[] Row(InferRequest run, InferOutput result, int slot, int slots)
    {
        var perRow = result.ElementCount / slots;
        var data = result.FixedData;
        var row = new double[perRow];
        for (var i = 0; i < perRow; i++)
        {
            row[i] = ElementValues.Read(result.DataType, data, (slot * perRow) + i);
        }

        return row;
    }

    public override double Element(InferRequest run, InferOutput result, int slot, int slots, long index) =>
        ElementValues.Read(result.DataType, result.FixedData, (slot * (result.ElementCount / slots)) + index);
}
