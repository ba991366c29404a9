using System.Text.Json;
using System.Text.Json.Serialization;
using MaaS.Core.Batching;

namespace MaaS.Core.Config;

/// <summary>Triton's <c>ModelQueuePolicy</c>, as written in config.json.</summary>
public sealed record QueuePolicyConfig
{
    [JsonPropertyName("timeout_action")]
    [JsonConverter(typeof(TimeoutActionConverter))]
    public TimeoutAction? TimeoutAction { get; init; }

    [JsonPropertyName("default_timeout_microseconds")]
    public long? DefaultTimeoutMicroseconds { get; init; }

    [JsonPropertyName("allow_timeout_override")]
    public bool? AllowTimeoutOverride { get; init; }

    /// <summary>Absent: <see cref="BatchingPolicy.DefaultMaxQueueSize"/>; 0 = unbounded.</summary>
    [JsonPropertyName("max_queue_size")]
    public long? MaxQueueSize { get; init; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Unknown { get; set; }
}
