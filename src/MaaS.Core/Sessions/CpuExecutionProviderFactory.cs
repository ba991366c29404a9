using Microsoft.ML.OnnxRuntime;

namespace MaaS.Core.Sessions;

/// <summary>ONNX Runtime's default CPU provider with full graph optimisation.</summary>
public sealed class CpuExecutionProviderFactory : IExecutionProviderFactory
{
    public string Name => "cpu";

    public SessionOptions CreateSessionOptions() =>
        new() { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
}
