using MaaS.Core.Inference;
using MaaS.Core.Sessions;
using Microsoft.Extensions.Options;

namespace MaaS.Core.Explain;

/// <summary>
/// Explanations of a model version's predictions from forward passes only (the entry point the host maps): plans the
/// method's features and cost, refuses a request over <c>MaaS:Explain:MaxEvaluations</c>, then runs the perturbed rows
/// in batches through the version's own sessions and turns their outputs into attributions.
/// </summary>
public sealed partial class Explainer(IOptions<ExplainOptions> options)
{
    /// <summary>
    /// Explains <paramref name="request"/> (decoded and validated for <paramref name="model"/>, which the caller holds a
    /// lease on). A request the method or the budget cannot serve is a <see cref="ServingException"/> (400).
    /// </summary>
    public async Task<Explanation> ExplainAsync(OnnxModel model, InferRequest request, ExplainParameters parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(parameters);
        var output = TargetOutput(model.Signature, parameters);
        var inputs = new ExplainInputs(model.Signature, request);
        var plan = ExplainPlanner.Plan(inputs, parameters, new EvaluationBudget(inputs.Rows, options.Value.MaxEvaluations));
        var passes = new ForwardPasses(model, inputs, output);
        var rows = Enumerable.Range(0, inputs.Rows).ToArray();
        var outputRows = await passes.RunAsync([.. rows.Select(row => new Evaluation(row, null))], null, cancellationToken);
        var target = TargetIndex(outputRows, parameters, output);
        var prediction = rows.Select(row => outputRows[row][target[row]]).ToArray();
        var baseline = await passes.RunAsync([.. rows.Select(row => new Evaluation(row, writer => RemoveAll(writer, plan.Features)))], target, cancellationToken);
        var attributions = new Attributions(inputs, plan);
        var samples = (int?)null;
        if (plan.Method != ExplainMethod.Shapley)
        {
            await OneAtATimeAsync(passes, plan, rows, target, prediction, attributions, cancellationToken);
        }
        else if (plan.Coalitions is { } coalitions)
        {
            await KernelAsync(passes, plan, coalitions, rows, target, prediction, baseline, attributions, cancellationToken);
            samples = coalitions.Length;
        }
        else
        {
            await ExactAsync(passes, plan, rows, target, prediction, baseline, attributions, cancellationToken);
        }

        return new Explanation
        {
            Method = plan.Method,
            TargetOutput = output,
            TargetIndex = target,
            Prediction = prediction,
            BaselinePrediction = [.. baseline.Select(values => values[0])],
            Evaluations = passes.Count,
            Attributions = attributions.Build(),
            HeldFixed = plan.HeldFixed,
            Estimator = plan.Method != ExplainMethod.Shapley ? null : samples is null ? "exact" : "kernel",
            Samples = samples,
        };
    }

    private static string TargetOutput(ModelSignature signature, ExplainParameters parameters)
    {
        var name = parameters.TargetOutput;
        if (name is null)
        {
            return signature.Outputs.Count == 1
                ? signature.Outputs[0].Name
                : throw ServingException.Invalid($"target 'output' is required: the model has several outputs: {signature.Describe(signature.Outputs)}");
        }

        if (!signature.TryGetOutput(name, out var spec))
        {
            throw ServingException.Invalid($"unknown target output '{name}'; the model's outputs are: {signature.Describe(signature.Outputs)}");
        }

        return spec.DataType != Tensors.TensorDataType.Bytes
            ? name
            : throw ServingException.Invalid($"target output '{name}' is BYTES; explanations need a numeric output");
    }

    private static long[] TargetIndex(double[][] outputRows, ExplainParameters parameters, string output)
    {
        var target = new long[outputRows.Length];
        for (var row = 0; row < outputRows.Length; row++)
        {
            var values = outputRows[row];
            if (parameters.TargetIndex is { } index)
            {
                target[row] = index < values.Length
                    ? index
                    : throw ServingException.Invalid($"target index {index} is out of range: a row of output '{output}' has {values.Length} element(s) (0 to {values.Length - 1})");
            }
            else
            {
                target[row] = Array.IndexOf(values, values.Max());
            }
        }

        return target;
    }

    private static void RemoveAll(RowWriter writer, IReadOnlyList<Feature> features)
    {
        foreach (var feature in features)
        {
            writer.Remove(feature);
        }
    }
}
