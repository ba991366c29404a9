using Microsoft.ML.OnnxRuntime;

namespace MaaS.Core.Sessions;

/// <summary>Creates the session options for one execution provider (CPU here; CUDA in the GPU build).</summary>
public interface IExecutionProviderFactory
{
    /// <summary>The provider's name as reported to clients: "cpu" or "cuda".</summary>
    string Name { get; }

    /// <summary>Session options for a new session; the caller disposes them once the session exists.</summary>
    SessionOptions CreateSessionOptions();
}
