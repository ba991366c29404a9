namespace MaaS.Core.Explain;

/// <summary>
/// One attributed feature: the elements set to the baseline when it is absent (<see cref="Replace"/>), and the elements
/// its attribution is spread over (<see cref="Credit"/>): the same elements, except when masking a token goes through the
/// attention mask, which is replaced while the token ids are credited.
/// </summary>
internal sealed record Feature(FeatureSegment[] Replace, FeatureSegment[] Credit)
{
    public Feature(FeatureSegment[] segments)
        : this(segments, segments)
    {
    }

    public int CreditCount => Credit.Sum(segment => segment.Elements.Length);
}
