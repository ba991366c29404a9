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
    public Task<Explanation> ExplainAsync(OnnxModel model, InferRequest request, ExplainParameters parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(parameters);
        var output = TargetOutput(model.Signature, parameters);
        var inputs = new ExplainInputs(request, model.Signature.MaxBatchSize > 0);
        return RunAsync(model, inputs, parameters, new ModelOutputReadout(output), output, ExplainTargetDefault.LargestElement, cancellationToken);
    }

    /// <summary>
    /// Explains a request of a pipeline model (decoded for the pipeline's own inputs) through its inner model
    /// <paramref name="inner"/> (leased by the caller): the pipeline turns the request into the inner model's tensors
    /// and says how to explain them, each evaluation is read through the pipeline's post-processing, and the
    /// attributions are mapped back to the pipeline's inputs.
    /// </summary>
    public async Task<Explanation> ExplainAsync(
        IExplainablePipeline pipeline, OnnxModel inner, InferRequest request, ExplainParameters parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(parameters);
        using var prepared = pipeline.PrepareExplanation(request, parameters, inner.Signature);
        var inputs = new ExplainInputs(prepared.Request, batched: true);
        var explanation = await RunAsync(inner, inputs, prepared.Parameters, prepared.Readout, prepared.TargetName, prepared.DefaultTarget, cancellationToken);
        return prepared.MapBack(explanation);
    }

    private async Task<Explanation> RunAsync(
        OnnxModel model, ExplainInputs inputs, ExplainParameters parameters, ExplainReadout readout, string targetName, ExplainTargetDefault defaultTarget,
        CancellationToken cancellationToken)
    {
        var plan = ExplainPlanner.Plan(inputs, parameters, new EvaluationBudget(inputs.Rows, options.Value.MaxEvaluations));
        var passes = new ForwardPasses(model, inputs, readout);
        var rows = Enumerable.Range(0, inputs.Rows).ToArray();
        var outputRows = await passes.RunRowsAsync([.. rows.Select(row => new Evaluation(row, null))], cancellationToken);
        var target = Target(outputRows, parameters, targetName, defaultTarget);
        var prediction = rows.Select(row => target.OfRow(outputRows[row], row)).ToArray();
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
            TargetOutput = targetName,
            TargetIndex = (target as ElementTarget)?.Index,
            TargetSimilarity = target is CosineTarget ? "cosine" : null,
            Prediction = prediction,
            BaselinePrediction = baseline,
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

    private static ExplainTarget Target(double[][] outputRows, ExplainParameters parameters, string output, ExplainTargetDefault defaultTarget)
    {
        if (parameters.TargetIndex is null && defaultTarget == ExplainTargetDefault.CosineSimilarity)
        {
            return new CosineTarget(outputRows);
        }

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

        return new ElementTarget(target);
    }

    private static void RemoveAll(RowWriter writer, IReadOnlyList<Feature> features)
    {
        foreach (var feature in features)
        {
            writer.Remove(feature);
        }
    }
}
