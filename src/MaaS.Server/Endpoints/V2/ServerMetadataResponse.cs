using System.Text.Json.Serialization;

namespace MaaS.Server.Endpoints.V2;

/// <summary><c>GET /v2</c>: the server's name, version, protocol extensions and the execution provider in use.</summary>
public sealed record ServerMetadataResponse(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("version")] string Version,
    [property: JsonPropertyName("extensions")] IReadOnlyList<string> Extensions,
    [property: JsonPropertyName("execution_provider")] string ExecutionProvider);
