using System.Text.Json;
using System.Text.Json.Serialization;

namespace MaaS.Server.Endpoints.V1;

/// <summary>KServe V1 predict request, for the OpenAPI document: <c>instances</c> (rows) or <c>inputs</c> (columns).</summary>
public sealed record PredictRequestDocument(
    [property: JsonPropertyName("instances")] IReadOnlyList<JsonElement>? Instances,
    [property: JsonPropertyName("inputs")] JsonElement? Inputs);

/// <summary>KServe V1 predict response: one prediction per instance.</summary>
public sealed record PredictResponseDocument([property: JsonPropertyName("predictions")] IReadOnlyList<JsonElement> Predictions);

/// <summary>KServe V1 explain request, for the OpenAPI document: as predict, plus the explanation's <c>parameters</c>.</summary>
public sealed record ExplainV1RequestDocument(
    [property: JsonPropertyName("instances")] IReadOnlyList<JsonElement>? Instances,
    [property: JsonPropertyName("inputs")] JsonElement? Inputs,
    [property: JsonPropertyName("parameters")] Dictionary<string, JsonElement>? Parameters);

/// <summary>KServe V1 explain response: the explained value per instance, and per instance each attributed input's attributions.</summary>
public sealed record ExplainV1ResponseDocument(
    [property: JsonPropertyName("predictions")] IReadOnlyList<double> Predictions,
    [property: JsonPropertyName("explanations")] IReadOnlyList<Dictionary<string, JsonElement>> Explanations,
    [property: JsonPropertyName("parameters")] Dictionary<string, JsonElement> Parameters);
