using System.Text.Json;
using System.Text.Json.Serialization;

namespace MaaS.Core.Config;

/// <summary>One <c>input</c> or <c>output</c> entry.</summary>
public sealed record TensorConfig
{
    [JsonPropertyName("name")]
    public string? Name { get; init; }

    [JsonPropertyName("data_type")]
    public string? DataType { get; init; }

    /// <summary>Shape without the batch dim; -1 = variable.</summary>
    [JsonPropertyName("dims")]
    public long[]? Dims { get; init; }

    [JsonPropertyName("label_filename")]
    public string? LabelFilename { get; init; }

    [JsonPropertyName("optional")]
    public bool? Optional { get; init; }

    /// <summary>Keys this record does not declare: Triton's (kept, reported as ignored) once the config is valid.</summary>
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Unknown { get; set; }
}
