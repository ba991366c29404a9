using System.Text.Json.Serialization;

namespace MaaS.Server.Endpoints.V2;

/// <summary><c>GET /v2/models/{m}</c>: versions (strings), platform, inputs and outputs.</summary>
public sealed record ModelMetadataResponse(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("versions")] IReadOnlyList<string> Versions,
    [property: JsonPropertyName("platform")] string Platform,
    [property: JsonPropertyName("inputs")] IReadOnlyList<TensorMetadata> Inputs,
    [property: JsonPropertyName("outputs")] IReadOnlyList<TensorMetadata> Outputs,
    [property: JsonPropertyName("execution_provider")] string ExecutionProvider);
