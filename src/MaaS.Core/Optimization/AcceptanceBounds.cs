using System.Globalization;
using System.Text.Json.Serialization;

namespace MaaS.Core.Optimization;

/// <summary>
/// The limits an optimised model must stay within to be kept. Each bound the request sets replaces that bound's
/// default for the method; the others keep their default (null: not checked).
/// </summary>
public sealed record AcceptanceBounds(
    [property: JsonPropertyName("max_abs_diff")] double? MaxAbsDiff,
    [property: JsonPropertyName("min_cosine")] double? MinCosine,
    [property: JsonPropertyName("min_top1_agreement")] double? MinTop1Agreement)
{
    /// <summary>
    /// Defaults per method. graph: its rewrites preserve semantics, so only float reassociation may move a value
    /// (max_abs_diff 1e-4). fp16: about three significant digits, so an absolute bound would depend on the output's
    /// scale; the direction of each row must hold (min_cosine 0.999). int8: quantisation error is expected and scales
    /// with the weights, so again no absolute bound; min_cosine 0.98, the level at which sentence embeddings still rank
    /// alike. Other methods: min_cosine 0.99. No method bounds top-1 agreement by default: the server cannot tell a
    /// class axis from an embedding's last axis, whose argmax means nothing; a client that knows sets it.
    /// </summary>
    public static AcceptanceBounds DefaultFor(string method) => method switch
    {
        "graph" => new(1e-4, null, null),
        "fp16" => new(null, 0.999, null),
        "int8" => new(null, 0.98, null),
        _ => new(null, 0.99, null),
    };

    /// <summary>The method's defaults with the request's bounds over them.</summary>
    public static AcceptanceBounds For(string method, OptimizeRequest request)
    {
        var defaults = DefaultFor(method);
        return new(
            request.MaxAbsDiff ?? defaults.MaxAbsDiff,
            request.MinCosine ?? defaults.MinCosine,
            request.MinTop1Agreement ?? defaults.MinTop1Agreement);
    }

    /// <summary>The bounds <paramref name="accuracy"/> breaks, said with the values, or null when it keeps them all (NaN breaks every bound).</summary>
    public string? Check(AccuracyFigures accuracy)
    {
        var broken = new List<string>();
        if (MaxAbsDiff is { } maxAbs && !(accuracy.MaxAbsDiff <= maxAbs))
        {
            broken.Add(Say("max_abs_diff", accuracy.MaxAbsDiff, "above", maxAbs));
        }

        if (MinCosine is { } minCosine && !(accuracy.MinCosine >= minCosine))
        {
            broken.Add(Say("min_cosine", accuracy.MinCosine, "below", minCosine));
        }

        if (MinTop1Agreement is { } minTop1 && accuracy.Top1Agreement is { } top1 && !(top1 >= minTop1))
        {
            broken.Add(Say("top1_agreement", top1, "below", minTop1));
        }

        return broken.Count == 0 ? null : "the optimised model breaks the acceptance bounds: " + string.Join("; ", broken) + "; nothing was kept";
    }

    private static string Say(string name, double value, string side, double bound) =>
        string.Create(CultureInfo.InvariantCulture, $"{name} {value:G6} is {side} the bound {bound:G6}");
}
