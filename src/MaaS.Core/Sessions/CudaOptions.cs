using System.ComponentModel.DataAnnotations;

namespace MaaS.Core.Sessions;

/// <summary>The <c>MaaS:Cuda</c> section, used when <c>MaaS:ExecutionProvider</c> is <c>cuda</c>.</summary>
internal sealed class CudaOptions
{
    public const string SectionName = "MaaS:Cuda";

    /// <summary>GPU for instances whose config names none. Default 0.</summary>
    [Range(0, 255)]
    public int DeviceId { get; set; }

    /// <summary>Most GPU memory ONNX Runtime's CUDA arena may take, per device; 0 = no limit. Default 0.</summary>
    [Range(0, long.MaxValue)]
    public long MemoryLimitBytes { get; set; }

    /// <summary>cuDNN convolution algorithm search: EXHAUSTIVE (slow start, fastest kernels), HEURISTIC or DEFAULT. Default EXHAUSTIVE.</summary>
    [RegularExpression("^(EXHAUSTIVE|HEURISTIC|DEFAULT)$", ErrorMessage = "MaaS:Cuda:ConvAlgoSearch must be EXHAUSTIVE, HEURISTIC or DEFAULT")]
    public string ConvAlgoSearch { get; set; } = "EXHAUSTIVE";

    /// <summary>
    /// When CUDA cannot start: true refuses to start the server, false (default) falls back to the CPU with a warning.
    /// Strict also keeps ONNX Runtime from quietly placing nodes CUDA cannot run on the CPU.
    /// </summary>
    public bool Strict { get; set; }
}
