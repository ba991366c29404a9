using System.ComponentModel.DataAnnotations;

namespace MaaS.Server.Hosting;

/// <summary>Graceful shutdown: <c>MaaS:ShutdownTimeoutSeconds</c> and <c>MaaS:Shutdown:DelaySeconds</c>.</summary>
internal sealed class ShutdownOptions
{
    /// <summary>
    /// After SIGTERM, how long new inference is still accepted while readiness already answers 503, so the load
    /// balancer stops routing here first. Default 5, 0 to 300.
    /// </summary>
    [Range(0, 300)]
    public int DelaySeconds { get; set; } = 5;

    /// <summary>How long requests in flight may take to finish once new ones are refused; then the process exits. Default 30, 1 to 3600.</summary>
    [Range(1, 3600)]
    public int TimeoutSeconds { get; set; } = 30;
}
