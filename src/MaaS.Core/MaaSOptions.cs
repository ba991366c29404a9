using System.ComponentModel.DataAnnotations;

namespace MaaS.Core;

/// <summary>The <c>MaaS</c> configuration section: where the models are and how they are served.</summary>
public sealed class MaaSOptions
{
    public const string SectionName = "MaaS";

    /// <summary>Root of the model repository; relative paths are resolved against the working directory. Default "models".</summary>
    [Required(AllowEmptyStrings = false)]
    public string ModelRepository { get; set; } = "models";

    /// <summary>Seconds between rescans of the repository for changes made on disk by others; 0 (default) turns polling off. 0 to 86400.</summary>
    [Range(0, 86400)]
    public int RepositoryPollSeconds { get; set; }

    /// <summary>
    /// When true (Triton's default), the server reports ready only when every model version selected at startup is
    /// READY; when false, once startup loading has finished, whatever its outcome. Default true.
    /// </summary>
    public bool StrictReadiness { get; set; } = true;

    /// <summary>Execution provider: cpu (default) or cuda (the GPU build; falls back to the CPU when CUDA cannot start, see MaaS:Cuda).</summary>
    [RegularExpression("^(cpu|cuda)$", ErrorMessage = "MaaS:ExecutionProvider must be cpu or cuda")]
    public string ExecutionProvider { get; set; } = "cpu";

    /// <summary>max_batch_size given to a model whose config does not set one and whose graph batches. Default 64, 1 to 65536.</summary>
    [Range(1, 65536)]
    public int DefaultMaxBatchSize { get; set; } = 64;
}
