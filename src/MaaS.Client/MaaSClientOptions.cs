using System.ComponentModel.DataAnnotations;

namespace MaaS.Client;

/// <summary>Where the server is and how to talk to it; validated when the client is first resolved.</summary>
public sealed class MaaSClientOptions
{
    /// <summary>The server's HTTP address, e.g. http://localhost:8000. Required, absolute.</summary>
    [Required] public Uri? BaseAddress { get; set; }

    /// <summary>Sent as <c>Authorization: Bearer</c> when set (servers with <c>MaaS:Auth:ApiKeys</c>).</summary>
    public string? ApiKey { get; set; }

    /// <summary>Retries of a transient failure (connection error, 408, 429, 5xx; 503 honours Retry-After). Default 3; 0 turns retries off.</summary>
    [Range(0, 10)] public int MaxRetries { get; set; } = 3;

    /// <summary>First delay between retries (exponential with jitter after it). Default 200 ms.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Time limit of one HTTP request, uploads included. Default 10 minutes.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromMinutes(10);
}
