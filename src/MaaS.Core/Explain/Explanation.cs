namespace MaaS.Core.Explain;

/// <summary>Attributions of one input: its name and shape, one value per element (over every row of the request).</summary>
public sealed record Attribution(string Name, long[] Shape, float[] Values);

/// <summary>An image pipeline's input image, which its attributions cover pixel by pixel: the layout (NCHW or NHWC) and sizes.</summary>
public sealed record ImageLayout(string Layout, int Channels, int Height, int Width);

/// <summary>What an explanation found, ready to encode as a V2 or V1 answer.</summary>
public sealed record Explanation
{
    public required ExplainMethod Method { get; init; }

    /// <summary>The output explained, and the element of its row explained for each request row.</summary>
    public required string TargetOutput { get; init; }

    /// <summary>The element of the output's row explained for each request row; null when the target is a similarity.</summary>
    public required long[]? TargetIndex { get; init; }

    /// <summary>"cosine" when the target is the output row's cosine similarity to the row as sent (a pipeline's embedding); else null.</summary>
    public string? TargetSimilarity { get; init; }

    /// <summary>f(x): the target for each row as sent.</summary>
    public required double[] Prediction { get; init; }

    /// <summary>f(baseline): the target for each row with every attributed feature set to the baseline.</summary>
    public required double[] BaselinePrediction { get; init; }

    /// <summary>Forward passes (rows) run.</summary>
    public required int Evaluations { get; init; }

    /// <summary>One per attributed input, in the request's input order.</summary>
    public required IReadOnlyList<Attribution> Attributions { get; init; }

    /// <summary>Inputs not attributed (integer and boolean inputs, the mask), kept as sent in every evaluation.</summary>
    public required IReadOnlyList<string> HeldFixed { get; init; }

    /// <summary>"exact" or "kernel" for Shapley values; null for the other methods.</summary>
    public string? Estimator { get; init; }

    /// <summary>KernelSHAP coalitions sampled per row; null when not sampled.</summary>
    public int? Samples { get; init; }

    /// <summary>
    /// A text pipeline's tokens, per request row (ragged: the row's own tokens, no padding): element t of the row's
    /// attributions belongs to token t. Null for an explanation of tensors.
    /// </summary>
    public IReadOnlyList<string[]>? Tokens { get; init; }

    /// <summary>An image pipeline's input image (the attributions are per pixel of it); null for other explanations.</summary>
    public ImageLayout? Image { get; init; }
}
