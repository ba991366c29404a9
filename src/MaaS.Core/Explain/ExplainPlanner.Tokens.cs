namespace MaaS.Core.Explain;

internal static partial class ExplainPlanner
{
    /// <summary>
    /// One feature per step t of the token inputs (the first dim of their rows, shared by all of them). Masking step t
    /// sets the mask input's element t to 0 when the request names one (the tokens stay), else sets the token inputs'
    /// step t to <c>mask_value</c> (integer inputs) or to the baseline (floating-point sequences). The attribution of a
    /// step is spread over its elements of every token input.
    /// </summary>
    private static ExplainPlan TokenPlan(ExplainInputs inputs, ExplainParameters parameters, EvaluationBudget budget)
    {
        if (parameters.TokenInputs.Count == 0)
        {
            throw ServingException.Invalid("method \"tokens\" needs 'token_inputs': the names of the inputs that hold the token ids (or sequence steps)");
        }

        var tokens = new int[parameters.TokenInputs.Count];
        long steps = -1;
        for (var i = 0; i < tokens.Length; i++)
        {
            tokens[i] = RequireSequence(inputs, parameters.TokenInputs[i], "token input");
            var length = inputs.RowShapes[tokens[i]][0];
            if (steps >= 0 && length != steps)
            {
                throw ServingException.Invalid($"token inputs must share their sequence length; '{parameters.TokenInputs[i]}' has {length} steps, '{parameters.TokenInputs[0]}' {steps}");
            }

            steps = length;
            if (tokens.AsSpan(0, i).Contains(tokens[i]))
            {
                throw ServingException.Invalid($"token input '{parameters.TokenInputs[i]}' is named twice");
            }

            if (!ElementValues.IsFloatingPoint(inputs.Inputs[tokens[i]].DataType))
            {
                inputs.FillBaseline(tokens[i], parameters.MaskValue);
            }
        }

        var mask = -1;
        if (parameters.MaskInput is { } maskName)
        {
            mask = RequireSequence(inputs, maskName, "mask input");
            if (tokens.Contains(mask) || inputs.RowShapes[mask][0] != steps)
            {
                throw ServingException.Invalid($"mask input '{maskName}' must be another input with the token inputs' {steps} steps");
            }

            inputs.FillBaseline(mask, 0);
        }

        budget.Require(steps + 2);
        var features = new List<Feature>((int)steps);
        for (var t = 0; t < steps; t++)
        {
            var credit = tokens.Select(k => Step(inputs, k, t)).ToArray();
            features.Add(mask < 0 ? new Feature(credit) : new Feature([Step(inputs, mask, t)], credit));
        }

        return new ExplainPlan(ExplainMethod.Tokens, features, tokens, Others(inputs, tokens), steps + 2);
    }

    private static int RequireSequence(ExplainInputs inputs, string name, string what)
    {
        var k = inputs.IndexOf(name);
        if (k < 0)
        {
            throw ServingException.Invalid($"unknown {what} '{name}'; the request's inputs are: {string.Join(", ", inputs.Inputs.Select(input => input.Name))}");
        }

        return inputs.RowShapes[k].Length >= 1
            ? k
            : throw ServingException.Invalid($"{what} '{name}' has no sequence dim: a row of it is a scalar");
    }

    private static FeatureSegment Step(ExplainInputs inputs, int input, int step)
    {
        var inner = inputs.RowElements[input] / (int)inputs.RowShapes[input][0];
        return new FeatureSegment(input, [.. Enumerable.Range(step * inner, inner)]);
    }
}
