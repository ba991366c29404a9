using System.Text.Json.Serialization;

namespace MaaS.Server.Endpoints.V2;

/// <summary>An input or output in model metadata; -1 in <c>shape</c> is a variable size (the batch dim included).</summary>
public sealed record TensorMetadata(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("datatype")] string Datatype,
    [property: JsonPropertyName("shape")] long[] Shape);
