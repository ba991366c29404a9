using System.ComponentModel.DataAnnotations;

namespace MaaS.Server.Hosting;

/// <summary>The <c>MaaS:Limits</c> section.</summary>
internal sealed class LimitsOptions
{
    public const string SectionName = "MaaS:Limits";

    /// <summary>Largest request body, after decompression, in bytes; larger ones get 413. Default 64 MiB (Triton's), 1 KiB to 2e9.</summary>
    [Range(1024, 2_000_000_000)]
    public long MaxRequestBodyBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>Largest model file an upload or a repository load may bring, in bytes; larger ones get 413 as soon as they pass it. Default 2 GiB, 1 KiB to 64 GiB.</summary>
    [Range(1024, 64L * 1024 * 1024 * 1024)]
    public long MaxModelBytes { get; set; } = 2L * 1024 * 1024 * 1024;
}
