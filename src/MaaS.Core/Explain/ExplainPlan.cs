namespace MaaS.Core.Explain;

/// <summary>What an explanation will do: its method, the features of a row, which inputs they cover, and its cost.</summary>
internal sealed record ExplainPlan(ExplainMethod Method, IReadOnlyList<Feature> Features, int[] Attributed, string[] HeldFixed, long PerRow)
{
    /// <summary>KernelSHAP's coalitions (same for every row); null for exact Shapley values and the other methods.</summary>
    public ulong[]? Coalitions { get; init; }
}
