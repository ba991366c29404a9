using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using MaaS.Core.Sessions;

namespace MaaS.Core.Registry;

/// <summary><c>GET /v2/repository/models/{m}</c>: every version on disk with its state, and the model's labels and config.</summary>
public sealed record ModelRegistryView(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("error"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Error,
    [property: JsonPropertyName("unloaded")] bool Unloaded,
    [property: JsonPropertyName("labels")] IReadOnlyDictionary<string, long> Labels,
    [property: JsonPropertyName("versions")] IReadOnlyList<VersionView> Versions,
    [property: JsonPropertyName("config"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] JsonNode? Config,
    [property: JsonPropertyName("ignored_config_keys")] IReadOnlyList<string> IgnoredConfigKeys);

/// <summary>
/// One version: state (READY, LOADING, UNAVAILABLE) and reason, file facts, labels, while loaded its instances and how
/// they were chosen, and for a version made by an optimisation the version it came from with the report.
/// </summary>
public sealed record VersionView(
    [property: JsonPropertyName("version")] string Version,
    [property: JsonPropertyName("state")] string State,
    [property: JsonPropertyName("reason"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Reason,
    [property: JsonPropertyName("sha256")] string? Sha256,
    [property: JsonPropertyName("size_bytes")] long? SizeBytes,
    [property: JsonPropertyName("created")] DateTimeOffset? Created,
    [property: JsonPropertyName("labels")] IReadOnlyList<string> Labels,
    [property: JsonPropertyName("instances"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] InstanceChoice? Instances = null,
    [property: JsonPropertyName("derived_from"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] JsonElement? DerivedFrom = null);
