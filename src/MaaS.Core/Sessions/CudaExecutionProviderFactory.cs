using System.Globalization;
using Microsoft.ML.OnnxRuntime;

namespace MaaS.Core.Sessions;

/// <summary>ONNX Runtime's CUDA provider (the GPU build of the server); instances configured KIND_CPU stay on the CPU.</summary>
internal sealed class CudaExecutionProviderFactory(CudaOptions cudaOptions) : IExecutionProviderFactory
{
    public string Name => "cuda";

    public string? FallbackReason => null;

    public string Configure(SessionOptions options, InstancePlacement placement)
    {
        if (placement.Kind == InstanceKind.Cpu)
        {
            return "cpu";
        }

        using var cuda = new OrtCUDAProviderOptions();
        var settings = new Dictionary<string, string>
        {
            ["device_id"] = (placement.Kind == InstanceKind.Gpu ? placement.DeviceId : cudaOptions.DeviceId).ToString(CultureInfo.InvariantCulture),
            ["cudnn_conv_algo_search"] = cudaOptions.ConvAlgoSearch,
        };
        if (cudaOptions.MemoryLimitBytes > 0)
        {
            settings["gpu_mem_limit"] = cudaOptions.MemoryLimitBytes.ToString(CultureInfo.InvariantCulture);
        }

        cuda.UpdateOptions(settings);
        options.AppendExecutionProvider_CUDA(cuda);
        if (cudaOptions.Strict)
        {
            // Refuse a graph with nodes CUDA cannot run rather than running them on the CPU unannounced.
            options.AddSessionConfigEntry("session.disable_cpu_ep_fallback", "1");
        }

        return Name;
    }
}
