using System.Text.Json.Serialization;

namespace MaaS.Server.Endpoints.V1;

/// <summary><c>GET /v1/models/{m}</c>.</summary>
public sealed record ModelStatusResponse(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("ready")] bool Ready);
