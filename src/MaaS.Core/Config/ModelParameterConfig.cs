using System.Text.Json;
using System.Text.Json.Serialization;

namespace MaaS.Core.Config;

/// <summary>One <c>parameters</c> value, Triton's <c>{"string_value": "…"}</c>; accepted and shown, not applied.</summary>
public sealed record ModelParameterConfig
{
    [JsonPropertyName("string_value")]
    public string? StringValue { get; init; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Unknown { get; set; }
}
