using System.ComponentModel.DataAnnotations;

namespace MaaS.Server.Hosting;

/// <summary>The <c>MaaS:Logging</c> section.</summary>
internal sealed class LoggingOptions
{
    public const string SectionName = "MaaS:Logging";

    public const int DefaultBufferSize = 10_000;

    /// <summary><c>true</c>: Serilog compact JSON on stdout (containers); else text. Default false.</summary>
    public bool Json { get; set; }

    /// <summary>
    /// Log events waiting to be written to stdout; past it new events are dropped (counted in
    /// <c>maas_log_events_dropped_total</c>) rather than stalling requests on a slow stdout. Default 10000, 100 to 1000000.
    /// </summary>
    [Range(100, 1_000_000)]
    public int BufferSize { get; set; } = DefaultBufferSize;
}
