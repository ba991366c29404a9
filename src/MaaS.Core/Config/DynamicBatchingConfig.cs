using System.Text.Json;
using System.Text.Json.Serialization;

namespace MaaS.Core.Config;

/// <summary><c>dynamic_batching</c> in Triton's field names (docs/configuration.md, Dynamic batching).</summary>
public sealed record DynamicBatchingConfig
{
    [JsonPropertyName("preferred_batch_size")]
    public long[]? PreferredBatchSize { get; init; }

    [JsonPropertyName("max_queue_delay_microseconds")]
    public long? MaxQueueDelayMicroseconds { get; init; }

    /// <summary>Accepted: each HTTP request gets its own answer, so order across requests means nothing here.</summary>
    [JsonPropertyName("preserve_ordering")]
    public bool? PreserveOrdering { get; init; }

    [JsonPropertyName("priority_levels")]
    public long? PriorityLevels { get; init; }

    [JsonPropertyName("default_priority_level")]
    public long? DefaultPriorityLevel { get; init; }

    [JsonPropertyName("default_queue_policy")]
    public QueuePolicyConfig? DefaultQueuePolicy { get; init; }

    /// <summary>Priority level ("1", "2"…) -> its queue policy, over <see cref="DefaultQueuePolicy"/>.</summary>
    [JsonPropertyName("priority_queue_policy")]
    public Dictionary<string, QueuePolicyConfig>? PriorityQueuePolicy { get; init; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Unknown { get; set; }
}
