namespace MaaS.Core.Explain;

/// <summary>Attributions being gathered: a feature's value spread evenly over its credited elements, averaged where windows overlap.</summary>
internal sealed class Attributions(ExplainInputs inputs, ExplainPlan plan)
{
    private readonly double[][] _sums = [.. inputs.Inputs.Select((input, k) => plan.Attributed.Contains(k) ? new double[inputs.Rows * inputs.RowElements[k]] : [])];
    private readonly int[][] _counts = [.. inputs.Inputs.Select((input, k) => plan.Attributed.Contains(k) ? new int[inputs.Rows * inputs.RowElements[k]] : [])];

    public void Credit(Feature feature, int row, double value)
    {
        var share = value / feature.CreditCount;
        foreach (var segment in feature.Credit)
        {
            var offset = row * inputs.RowElements[segment.Input];
            foreach (var element in segment.Elements)
            {
                _sums[segment.Input][offset + element] += share;
                _counts[segment.Input][offset + element]++;
            }
        }
    }

    public List<Attribution> Build() =>
        [.. plan.Attributed.Select(k => new Attribution(
            inputs.Inputs[k].Name,
            inputs.Inputs[k].Shape,
            [.. _sums[k].Select((sum, i) => _counts[k][i] == 0 ? 0f : (float)(sum / _counts[k][i]))]))];
}
