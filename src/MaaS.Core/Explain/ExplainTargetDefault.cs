namespace MaaS.Core.Explain;

/// <summary>What is explained when the request gives no <c>target.index</c>.</summary>
public enum ExplainTargetDefault
{
    /// <summary>The row's largest element (the predicted class); the only one of a scalar row.</summary>
    LargestElement,

    /// <summary>The cosine similarity of the output row to the row of the request as sent (an embedding has no class).</summary>
    CosineSimilarity,
}
