namespace MaaS.Core.Explain;

/// <summary>Elements (indices within one row) of one input that belong to a feature.</summary>
internal sealed record FeatureSegment(int Input, int[] Elements);
