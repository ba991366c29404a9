namespace MaaS.Core.Inference;

/// <summary>An output the client asked for, how to return it, and whether to replace it with its top <see cref="ClassCount"/> classes.</summary>
public sealed record RequestedOutput(string Name, bool Binary, int ClassCount = 0);
