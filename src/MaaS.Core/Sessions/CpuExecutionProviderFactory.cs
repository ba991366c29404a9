using Microsoft.ML.OnnxRuntime;

namespace MaaS.Core.Sessions;

/// <summary>ONNX Runtime's default CPU provider.</summary>
internal sealed class CpuExecutionProviderFactory(string? fallbackReason = null) : IExecutionProviderFactory
{
    public string Name => "cpu";

    public string? FallbackReason { get; } = fallbackReason;

    public string Configure(SessionOptions options, InstancePlacement placement) => Name;
}
