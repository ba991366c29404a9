using System.Text.Json.Serialization;

namespace MaaS.Server.Endpoints.Management;

/// <summary>Answer to an upload: the version as registered.</summary>
public sealed record UploadResponse(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("version")] string Version,
    [property: JsonPropertyName("state")] string State,
    [property: JsonPropertyName("sha256")] string? Sha256,
    [property: JsonPropertyName("size_bytes")] long? SizeBytes);

/// <summary>Body of <c>PUT /v2/repository/models/{m}/labels/{label}</c>.</summary>
public sealed record LabelRequest([property: JsonPropertyName("version")] long Version);
