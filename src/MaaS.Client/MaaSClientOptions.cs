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

    /// <summary>
    /// How <see cref="IMaaSClient"/> reaches the server. <see cref="MaaSTransport.Grpc"/> sends health, metadata,
    /// config, inference, the repository index, load/unload and statistics over gRPC (<see cref="GrpcAddress"/>);
    /// the rest, which only HTTP has, still goes to <see cref="BaseAddress"/>.
    /// </summary>
    public MaaSTransport Transport { get; set; } = MaaSTransport.Http;

    /// <summary>The server's gRPC address, e.g. http://localhost:8001; required with <see cref="MaaSTransport.Grpc"/>.</summary>
    public Uri? GrpcAddress { get; set; }

    /// <summary>Adjusts the gRPC channel (message size limits, a handler); called after the client's own settings.</summary>
    public Action<Grpc.Net.Client.GrpcChannelOptions>? ConfigureGrpcChannel { get; set; }
}

/// <summary>The protocol of the calls that exist in both.</summary>
public enum MaaSTransport
{
    Http,
    Grpc,
}
