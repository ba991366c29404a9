namespace MaaS.Core.Explain;

/// <summary>Chooses the method, the attributed inputs and their features, sets the baselines, and counts the cost, before anything runs.</summary>
internal static partial class ExplainPlanner
{
    /// <summary>KernelSHAP coalitions per row when the request gives no <c>samples</c>.</summary>
    public const int DefaultSamples = 1024;

    public static ExplainPlan Plan(ExplainInputs inputs, ExplainParameters parameters, EvaluationBudget budget)
    {
        SetBaselines(inputs, parameters);
        var method = parameters.Method ?? DefaultMethod(inputs, parameters);
        if (method != ExplainMethod.Tokens && (parameters.TokenInputs.Count > 0 || parameters.MaskInput is not null))
        {
            throw ServingException.Invalid("'token_inputs' and 'mask_input' apply to method \"tokens\"");
        }

        return method switch
        {
            ExplainMethod.Tokens => TokenPlan(inputs, parameters, budget),
            ExplainMethod.Occlusion => OcclusionPlan(inputs, parameters, budget),
            _ => ShapleyPlan(inputs, parameters, budget),
        };
    }

    private static ExplainMethod DefaultMethod(ExplainInputs inputs, ExplainParameters parameters)
    {
        if (parameters.TokenInputs.Count > 0)
        {
            return ExplainMethod.Tokens;
        }

        var features = 0L;
        foreach (var k in FloatInputs(inputs))
        {
            if (inputs.Inputs[k].Shape.Length >= 3)
            {
                return ExplainMethod.Occlusion;
            }

            features += inputs.RowElements[k];
        }

        return features <= ShapleyValues.MaxFeatures ? ExplainMethod.Shapley : ExplainMethod.Occlusion;
    }

    private static void SetBaselines(ExplainInputs inputs, ExplainParameters parameters)
    {
        for (var k = 0; k < inputs.Inputs.Count; k++)
        {
            if (parameters.BaselineValue != 0)
            {
                inputs.FillBaseline(k, parameters.BaselineValue);
            }
        }

        foreach (var (name, (shape, data)) in parameters.BaselineTensors)
        {
            var k = inputs.IndexOf(name);
            if (k < 0)
            {
                throw ServingException.Invalid($"baseline for unknown input '{name}'; the request's inputs are: {string.Join(", ", inputs.Inputs.Select(input => input.Name))}");
            }

            inputs.SetBaseline(k, shape, data);
        }
    }

    private static List<int> FloatInputs(ExplainInputs inputs) =>
        [.. Enumerable.Range(0, inputs.Inputs.Count).Where(k => ElementValues.IsFloatingPoint(inputs.Inputs[k].DataType))];

    private static string[] Others(ExplainInputs inputs, IEnumerable<int> attributed) =>
        [.. Enumerable.Range(0, inputs.Inputs.Count).Except(attributed).Select(k => inputs.Inputs[k].Name)];

    private static List<int> AttributedFloats(ExplainInputs inputs, string method)
    {
        var floats = FloatInputs(inputs);
        return floats.Count > 0
            ? floats
            : throw ServingException.Invalid(
                $"method \"{method}\" attributes floating-point inputs and this request has none ({string.Join(", ", inputs.Inputs.Select(input => $"{input.Name} {input.DataType.ToString().ToUpperInvariant()}"))}); for token ids use method \"tokens\" with \"token_inputs\"");
    }

    private static ExplainPlan ShapleyPlan(ExplainInputs inputs, ExplainParameters parameters, EvaluationBudget budget)
    {
        var attributed = AttributedFloats(inputs, "shapley");
        if (parameters.Stride is not null)
        {
            throw ServingException.Invalid("'stride' applies to occlusion; Shapley features grouped by 'window' do not overlap");
        }

        // Counted before anything is built: an input of millions of elements is refused, not enumerated.
        var layouts = parameters.Window is null
            ? null
            : attributed.ToDictionary(k => k, k => FeatureWindows.Layout(inputs.Inputs[k].Name, inputs.RowShapes[k], parameters.Window, parameters.Window));
        var d = attributed.Sum(k => layouts is null ? inputs.RowElements[k] : FeatureWindows.Count(inputs.RowShapes[k], layouts[k]));
        if (d > ShapleyValues.MaxFeatures)
        {
            throw ServingException.Invalid(
                $"method \"shapley\" handles at most {ShapleyValues.MaxFeatures} features per row and this request has {d}; group elements into features with 'window', or use method \"occlusion\"");
        }

        var exact = d <= ShapleyValues.MaxExactFeatures;
        var samples = (parameters.Samples ?? DefaultSamples) + ((parameters.Samples ?? DefaultSamples) % 2);
        if (!exact && samples < 2 * d)
        {
            throw ServingException.Invalid($"KernelSHAP over {d} features needs at least {2 * d} samples per row; 'samples' is {parameters.Samples}");
        }

        var perRow = exact ? 1L << (int)d : samples + 2L;
        budget.Require(perRow);
        var features = new List<Feature>();
        foreach (var k in attributed)
        {
            features.AddRange(layouts is null ? FeatureWindows.Elements(k, inputs.RowElements[k]) : FeatureWindows.Build(k, inputs.RowShapes[k], layouts[k]));
        }

        return new ExplainPlan(ExplainMethod.Shapley, features, [.. attributed], Others(inputs, attributed), perRow)
        {
            Coalitions = exact ? null : ShapleyValues.SampleCoalitions((int)d, samples, parameters.Seed),
        };
    }

    private static ExplainPlan OcclusionPlan(ExplainInputs inputs, ExplainParameters parameters, EvaluationBudget budget)
    {
        var attributed = AttributedFloats(inputs, "occlusion");
        var layouts = attributed.ToDictionary(k => k, k => FeatureWindows.Layout(inputs.Inputs[k].Name, inputs.RowShapes[k], parameters.Window, parameters.Stride));
        budget.Require(attributed.Sum(k => FeatureWindows.Count(inputs.RowShapes[k], layouts[k])) + 2L);
        var features = new List<Feature>();
        foreach (var k in attributed)
        {
            features.AddRange(FeatureWindows.Build(k, inputs.RowShapes[k], layouts[k]));
        }

        return new ExplainPlan(ExplainMethod.Occlusion, features, [.. attributed], Others(inputs, attributed), features.Count + 2L);
    }
}
