using Microsoft.ML.OnnxRuntime;

namespace MaaS.Core.Sessions;

/// <summary>The execution provider sessions run on: the CPU, or CUDA when it started (else the CPU, with the reason).</summary>
public interface IExecutionProviderFactory
{
    /// <summary>The provider in effect, as reported to clients: "cpu" or "cuda".</summary>
    string Name { get; }

    /// <summary>Why the configured provider is not the one in effect (CUDA could not start), or null.</summary>
    string? FallbackReason { get; }

    /// <summary>Adds the provider to <paramref name="options"/> for an instance placed at <paramref name="placement"/>; returns the provider that instance runs on.</summary>
    string Configure(SessionOptions options, InstancePlacement placement);
}
