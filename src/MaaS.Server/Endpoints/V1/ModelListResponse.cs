using System.Text.Json.Serialization;

namespace MaaS.Server.Endpoints.V1;

/// <summary><c>GET /v1/models</c>: the names of the models that can serve.</summary>
public sealed record ModelListResponse([property: JsonPropertyName("models")] IReadOnlyList<string> Models);
