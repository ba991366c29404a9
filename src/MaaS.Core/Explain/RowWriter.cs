using MaaS.Core.Tensors;

namespace MaaS.Core.Explain;

/// <summary>One perturbed row being written into a run's input buffers: features set to the baseline one by one.</summary>
internal sealed class RowWriter(ExplainInputs inputs, TensorBuffer[] buffers)
{
    private int _slot;
    private int _row;

    /// <summary>Starts slot <paramref name="slot"/> of the run as a copy of request row <paramref name="row"/>.</summary>
    public void Start(int slot, int row)
    {
        _slot = slot;
        _row = row;
        for (var k = 0; k < buffers.Length; k++)
        {
            inputs.Original(k, row).CopyTo(Destination(k));
        }
    }

    /// <summary>Sets the feature's elements to the baseline (the feature is absent from this evaluation).</summary>
    public void Remove(Feature feature)
    {
        foreach (var segment in feature.Replace)
        {
            var size = inputs.Inputs[segment.Input].DataType.ElementSize();
            var baseline = inputs.Baseline(segment.Input, _row);
            var destination = Destination(segment.Input);
            foreach (var element in segment.Elements)
            {
                baseline.Slice(element * size, size).CopyTo(destination[(element * size)..]);
            }
        }
    }

    private Span<byte> Destination(int input) => buffers[input].Span.Slice(_slot * inputs.RowBytes(input), inputs.RowBytes(input));
}
