using System.Text.Json;
using System.Text.Json.Serialization;

namespace MaaS.Core.Config;

/// <summary><c>version_policy</c>: exactly one of latest, all, specific.</summary>
public sealed record VersionPolicyConfig
{
    [JsonPropertyName("latest")]
    public LatestPolicy? Latest { get; init; }

    [JsonPropertyName("all")]
    public AllPolicy? All { get; init; }

    [JsonPropertyName("specific")]
    public SpecificPolicy? Specific { get; init; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Unknown { get; set; }
}

/// <summary>The newest <see cref="NumVersions"/> versions.</summary>
public sealed record LatestPolicy
{
    [JsonPropertyName("num_versions")]
    public int NumVersions { get; set; } = 1;

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Unknown { get; set; }
}

/// <summary>Every version.</summary>
public sealed record AllPolicy
{
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Unknown { get; set; }
}

/// <summary>The listed versions.</summary>
public sealed record SpecificPolicy
{
    [JsonPropertyName("versions")]
    public long[] Versions { get; set; } = [];

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Unknown { get; set; }
}
