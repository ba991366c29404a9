using System.Text.Json;
using System.Text.Json.Serialization;

namespace MaaS.Server.Endpoints.V2;

/// <summary>
/// A V2 explanation request, for the OpenAPI document: a V2 inference request whose <c>parameters</c> say what to explain
/// (method, target {output, index}, baseline, samples, seed, window, stride, token_inputs, mask_input, mask_value).
/// </summary>
public sealed record ExplainRequestDocument(
    [property: JsonPropertyName("id")] string? Id,
    [property: JsonPropertyName("parameters")] Dictionary<string, JsonElement>? Parameters,
    [property: JsonPropertyName("inputs")] IReadOnlyList<InferTensorDocument> Inputs);

/// <summary>
/// A V2 explanation: one FP32 output per attributed input (its name and shape), and in <c>parameters</c> the method,
/// target, prediction, baseline_prediction, evaluations and held_fixed inputs.
/// </summary>
public sealed record ExplainResponseDocument(
    [property: JsonPropertyName("id")] string? Id,
    [property: JsonPropertyName("model_name")] string ModelName,
    [property: JsonPropertyName("model_version")] string ModelVersion,
    [property: JsonPropertyName("parameters")] Dictionary<string, JsonElement> Parameters,
    [property: JsonPropertyName("outputs")] IReadOnlyList<InferTensorDocument> Outputs);
