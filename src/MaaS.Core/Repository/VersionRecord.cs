using System.Text.Json.Serialization;

namespace MaaS.Core.Repository;

/// <summary>The facts kept beside an uploaded version (<c>&lt;version&gt;/.maas-version.json</c>).</summary>
public sealed record VersionRecord(
    [property: JsonPropertyName("sha256")] string Sha256,
    [property: JsonPropertyName("size_bytes")] long SizeBytes,
    [property: JsonPropertyName("created")] DateTimeOffset Created);
