using System.Text.Json;
using System.Text.Json.Serialization;

namespace MaaS.Core.Repository;

/// <summary>
/// The facts kept beside an uploaded version (<c>&lt;version&gt;/.maas-version.json</c>); for a version the server
/// derived from another (an optimisation), the report of how it was made and measured, written in the same commit.
/// </summary>
public sealed record VersionRecord(
    [property: JsonPropertyName("sha256")] string Sha256,
    [property: JsonPropertyName("size_bytes")] long SizeBytes,
    [property: JsonPropertyName("created")] DateTimeOffset Created,
    [property: JsonPropertyName("derived_from")] JsonElement? DerivedFrom = null);
