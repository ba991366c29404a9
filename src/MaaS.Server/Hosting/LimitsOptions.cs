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

    /// <summary>
    /// Inference requests (V2 infer, V1 predict) running at once, from reading the body to writing the answer; more wait
    /// in the queue. Default (unset): derived from the CPUs and the memory (<see cref="InferenceLimits"/>), 1 to 100000.
    /// </summary>
    [Range(1, 100_000)]
    public int? MaxInFlight { get; set; }

    /// <summary>
    /// Inference requests waiting, oldest first, for one of the <see cref="MaxInFlight"/> slots; past it they get 503 with
    /// Retry-After. Default (unset): derived from the CPUs and the memory (<see cref="InferenceLimits"/>), 0 to 1000000.
    /// </summary>
    [Range(0, 1_000_000)]
    public int? MaxQueued { get; set; }

    /// <summary>The Retry-After (seconds) of a 503 for an overloaded server. Default 1, 1 to 3600.</summary>
    [Range(1, 3600)]
    public int RetryAfterSeconds { get; set; } = 1;

    /// <summary>Open connections Kestrel accepts at once (any route); more are refused. Default 4096, 1 to 1000000.</summary>
    [Range(1, 1_000_000)]
    public long MaxConnections { get; set; } = 4096;

    /// <summary>How long a client may take to send a request's headers before Kestrel closes the connection. Default 15, 1 to 600.</summary>
    [Range(1, 600)]
    public int RequestHeadersTimeoutSeconds { get; set; } = 15;

    /// <summary>
    /// How long an idle keep-alive connection stays open. Default 75 (more than the usual 60 s of load balancers, which
    /// must close an idle connection before the server does), 1 to 3600.
    /// </summary>
    [Range(1, 3600)]
    public int KeepAliveTimeoutSeconds { get; set; } = 75;
}
