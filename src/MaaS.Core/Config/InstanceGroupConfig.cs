using System.Text.Json;
using System.Text.Json.Serialization;

namespace MaaS.Core.Config;

/// <summary>One <c>instance_group</c> entry: <see cref="Count"/> sessions of a <see cref="Kind"/> on the listed GPUs.</summary>
public sealed record InstanceGroupConfig
{
    [JsonPropertyName("name")]
    public string? Name { get; init; }

    /// <summary>KIND_AUTO (default), KIND_CPU, KIND_GPU or KIND_MODEL (as KIND_AUTO).</summary>
    [JsonPropertyName("kind")]
    public string? Kind { get; init; }

    /// <summary>Sessions in this group; default 1.</summary>
    [JsonPropertyName("count")]
    public long? Count { get; init; }

    /// <summary>CUDA devices the group's sessions go to in turn; default [0].</summary>
    [JsonPropertyName("gpus")]
    public long[]? Gpus { get; init; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Unknown { get; set; }
}
