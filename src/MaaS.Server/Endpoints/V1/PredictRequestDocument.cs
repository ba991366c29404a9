using System.Text.Json;
using System.Text.Json.Serialization;

namespace MaaS.Server.Endpoints.V1;

/// <summary>KServe V1 predict request, for the OpenAPI document: <c>instances</c> (rows) or <c>inputs</c> (columns).</summary>
public sealed record PredictRequestDocument(
    [property: JsonPropertyName("instances")] IReadOnlyList<JsonElement>? Instances,
    [property: JsonPropertyName("inputs")] JsonElement? Inputs);

/// <summary>KServe V1 predict response: one prediction per instance.</summary>
public sealed record PredictResponseDocument([property: JsonPropertyName("predictions")] IReadOnlyList<JsonElement> Predictions);
