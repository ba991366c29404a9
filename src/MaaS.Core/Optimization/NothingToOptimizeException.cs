namespace MaaS.Core.Optimization;

/// <summary>The model has no operator the method can change (answered 422, and no version is made).</summary>
public sealed class NothingToOptimizeException(string message) : Exception(message);
