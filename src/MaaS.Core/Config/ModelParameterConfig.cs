using System.Text.Json;
using System.Text.Json.Serialization;

namespace MaaS.Core.Config;

/// <summary>
/// One <c>parameters</c> value, Triton's <c>{"string_value": "…"}</c>: applied when Triton's ONNX Runtime backend reads
/// it as a session option (<see cref="OnnxRuntimeParameters"/>), else accepted, shown and reported as ignored.
/// </summary>
public sealed record ModelParameterConfig
{
    [JsonPropertyName("string_value")]
    public string? StringValue { get; init; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Unknown { get; set; }
}
