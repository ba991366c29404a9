namespace MaaS.Core.Explain;

/// <summary>Window size and step along each dim of a row (see <see cref="FeatureWindows"/>).</summary>
internal sealed record WindowLayout(int[] Sizes, int[] Steps);
