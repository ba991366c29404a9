using System.Text.Json;
using System.Text.Json.Serialization;

namespace MaaS.Core.Config;

/// <summary>The classification step: the inner model's scores [rows, classes] → the top k as <c>score:index:label</c>.</summary>
public sealed record ClassificationStepConfig
{
    /// <summary>The inner model's output of scores. Default: its only output.</summary>
    [JsonPropertyName("source")]
    public string? Source { get; init; }

    /// <summary>Turn the scores into probabilities first (the output is logits). Default false.</summary>
    [JsonPropertyName("softmax")]
    public bool? Softmax { get; init; }

    /// <summary>Classes returned per image, best first. Default 5, range 1..1000 (at most the class count).</summary>
    [JsonPropertyName("top_k")]
    public int? TopK { get; init; }

    /// <summary>Label per class index, one a line, a plain file name in the pipeline's directory. Default <c>labels.txt</c>, optional.</summary>
    [JsonPropertyName("labels")]
    public string? Labels { get; init; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Unknown { get; set; }
}
