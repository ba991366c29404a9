namespace MaaS.Core.Explain;

/// <summary>How attributions are computed; every method needs only forward passes of the model.</summary>
public enum ExplainMethod
{
    /// <summary>Shapley values: exact by enumerating coalitions up to 12 features, KernelSHAP sampling up to 64.</summary>
    Shapley,

    /// <summary>A sliding window set to the baseline; the drop in the target is spread over the window.</summary>
    Occlusion,

    /// <summary>Each step of the token inputs masked in turn (or its attention mask set to 0).</summary>
    Tokens,
}
