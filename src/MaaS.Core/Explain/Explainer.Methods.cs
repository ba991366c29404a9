namespace MaaS.Core.Explain;

public sealed partial class Explainer
{
    /// <summary>Occlusion and token masking: one feature absent per evaluation; its attribution is the drop f(x) - f(x without it).</summary>
    private static async Task OneAtATimeAsync(
        ForwardPasses passes, ExplainPlan plan, int[] rows, ExplainTarget target, double[] prediction, Attributions attributions, CancellationToken cancellationToken)
    {
        var evaluations = new List<Evaluation>(rows.Length * plan.Features.Count);
        foreach (var row in rows)
        {
            foreach (var feature in plan.Features)
            {
                evaluations.Add(new Evaluation(row, writer => writer.Remove(feature)));
            }
        }

        var values = await passes.RunAsync(evaluations, target, cancellationToken);
        for (var i = 0; i < values.Length; i++)
        {
            var row = evaluations[i].Row;
            attributions.Credit(plan.Features[i % plan.Features.Count], row, prediction[row] - values[i]);
        }
    }

    /// <summary>Exact Shapley values: v of every coalition but the full one (f(x)) and the empty one (f(baseline)), already known.</summary>
    private static async Task ExactAsync(
        ForwardPasses passes, ExplainPlan plan, int[] rows, ExplainTarget target, double[] prediction, double[] baseline, Attributions attributions,
        CancellationToken cancellationToken)
    {
        var d = plan.Features.Count;
        var full = (int)ShapleyValues.Full(d);
        var evaluations = new List<Evaluation>(rows.Length * Math.Max(full - 1, 0));
        foreach (var row in rows)
        {
            for (var mask = 1; mask < full; mask++)
            {
                var present = (ulong)mask;
                evaluations.Add(new Evaluation(row, writer => RemoveAbsent(writer, plan.Features, present)));
            }
        }

        var values = await passes.RunAsync(evaluations, target, cancellationToken);
        var coalitions = new double[full + 1];
        for (var r = 0; r < rows.Length; r++)
        {
            coalitions[0] = baseline[r];
            coalitions[full] = prediction[r];
            for (var mask = 1; mask < full; mask++)
            {
                coalitions[mask] = values[(r * (full - 1)) + mask - 1];
            }

            var phi = ShapleyValues.Exact(d, coalitions);
            for (var i = 0; i < d; i++)
            {
                attributions.Credit(plan.Features[i], rows[r], phi[i]);
            }
        }
    }

    /// <summary>KernelSHAP over the plan's sampled coalitions, the same for every row; the values add up to f(x) - f(baseline) exactly.</summary>
    private static async Task KernelAsync(
        ForwardPasses passes, ExplainPlan plan, ulong[] coalitions, int[] rows, ExplainTarget target, double[] prediction, double[] baseline,
        Attributions attributions, CancellationToken cancellationToken)
    {
        var evaluations = new List<Evaluation>(rows.Length * coalitions.Length);
        foreach (var row in rows)
        {
            foreach (var present in coalitions)
            {
                evaluations.Add(new Evaluation(row, writer => RemoveAbsent(writer, plan.Features, present)));
            }
        }

        var values = await passes.RunAsync(evaluations, target, cancellationToken);
        var d = plan.Features.Count;
        for (var r = 0; r < rows.Length; r++)
        {
            var rowValues = new double[coalitions.Length];
            for (var k = 0; k < coalitions.Length; k++)
            {
                rowValues[k] = values[(r * coalitions.Length) + k];
            }

            var phi = ShapleyValues.Kernel(d, coalitions, rowValues, prediction[r], baseline[r]);
            for (var i = 0; i < d; i++)
            {
                attributions.Credit(plan.Features[i], rows[r], phi[i]);
            }
        }
    }

    private static void RemoveAbsent(RowWriter writer, IReadOnlyList<Feature> features, ulong present)
    {
        for (var i = 0; i < features.Count; i++)
        {
            if ((present & (1UL << i)) == 0)
            {
                writer.Remove(features[i]);
            }
        }
    }
}
