using System.Text.Json;
using System.Text.Json.Serialization;

namespace MaaS.Server.Endpoints.V2;

/// <summary>The V2 inference request, for the OpenAPI document (the endpoint itself parses the raw body).</summary>
public sealed record InferRequestDocument(
    [property: JsonPropertyName("id")] string? Id,
    [property: JsonPropertyName("parameters")] Dictionary<string, JsonElement>? Parameters,
    [property: JsonPropertyName("inputs")] IReadOnlyList<InferTensorDocument> Inputs,
    [property: JsonPropertyName("outputs")] IReadOnlyList<RequestedOutputDocument>? Outputs);

/// <summary>An input or output tensor: <c>data</c> is flat or nested row-major; or parameters.binary_data_size with the bytes after the JSON.</summary>
public sealed record InferTensorDocument(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("datatype")] string Datatype,
    [property: JsonPropertyName("shape")] long[] Shape,
    [property: JsonPropertyName("parameters")] Dictionary<string, JsonElement>? Parameters,
    [property: JsonPropertyName("data")] JsonElement? Data);

/// <summary>An output to return: parameters.binary_data (bool), parameters.classification (top k classes).</summary>
public sealed record RequestedOutputDocument(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("parameters")] Dictionary<string, JsonElement>? Parameters);

/// <summary>The V2 inference response (JSON part).</summary>
public sealed record InferResponseDocument(
    [property: JsonPropertyName("id")] string? Id,
    [property: JsonPropertyName("model_name")] string ModelName,
    [property: JsonPropertyName("model_version")] string ModelVersion,
    [property: JsonPropertyName("outputs")] IReadOnlyList<InferTensorDocument> Outputs);
