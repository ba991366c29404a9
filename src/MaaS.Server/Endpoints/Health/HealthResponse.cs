using System.Text.Json.Serialization;

namespace MaaS.Server.Endpoints.Health;

/// <summary>Body of a positive health answer; clients such as tritonclient look only at the status code.</summary>
public sealed record HealthResponse(
    [property: JsonPropertyName("live"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] bool? Live,
    [property: JsonPropertyName("ready"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] bool? Ready);
