using System.Text.Json;
using System.Text.Json.Serialization;

namespace MaaS.Core.Config;

/// <summary>
/// Ours: <c>pipeline</c>, steps around another model of the repository (docs/pipelines.md). A pipeline model's
/// directory holds this config and the steps' files (<c>vocab.txt</c>, <c>labels.txt</c>), no ONNX file; the inner
/// model stays reachable under its own name. Either text and pooling (text embeddings) or image and classification.
/// </summary>
public sealed record PipelineConfig
{
    /// <summary>The model of the repository that runs the tensors (required).</summary>
    [JsonPropertyName("inner_model")]
    public string? InnerModel { get; init; }

    /// <summary>BERT WordPiece tokenisation of a BYTES input <c>text</c>.</summary>
    [JsonPropertyName("text")]
    public TextStepConfig? Text { get; init; }

    /// <summary>Sentence embedding from the token states: mean over real tokens, optionally L2-normalised.</summary>
    [JsonPropertyName("pooling")]
    public PoolingStepConfig? Pooling { get; init; }

    /// <summary>PNG/JPEG decoding of a BYTES input <c>image</c> into the inner model's image tensor.</summary>
    [JsonPropertyName("image")]
    public ImageStepConfig? Image { get; init; }

    /// <summary>Top-k classes (optionally after a softmax) of the inner model's scores, as classification strings.</summary>
    [JsonPropertyName("classification")]
    public ClassificationStepConfig? Classification { get; init; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Unknown { get; set; }
}

/// <summary>The text step: WordPiece over a <c>vocab.txt</c>, truncated to <c>max_length</c> tokens ([CLS] and [SEP] included).</summary>
public sealed record TextStepConfig
{
    /// <summary>The vocabulary file in the pipeline's directory. Default <c>vocab.txt</c>.</summary>
    [JsonPropertyName("vocab")]
    public string? Vocab { get; init; }

    /// <summary>Lower-case (and strip accents) before tokenising, as uncased BERT models need. Default true.</summary>
    [JsonPropertyName("lower_case")]
    public bool? LowerCase { get; init; }

    /// <summary>Most tokens per text, [CLS] and [SEP] included; longer text is truncated. Default 256, range 3..8192.</summary>
    [JsonPropertyName("max_length")]
    public int? MaxLength { get; init; }

    /// <summary>Most texts in one request. Default 256, range 1..4096.</summary>
    [JsonPropertyName("max_texts")]
    public int? MaxTexts { get; init; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Unknown { get; set; }
}

/// <summary>The pooling step over the inner model's token states ([rows, tokens, hidden]).</summary>
public sealed record PoolingStepConfig
{
    /// <summary>Only <c>mean</c>: the average over tokens whose attention mask is 1.</summary>
    [JsonPropertyName("mode")]
    public string? Mode { get; init; }

    /// <summary>L2-normalise each embedding. Default true.</summary>
    [JsonPropertyName("normalize")]
    public bool? Normalize { get; init; }

    /// <summary>The inner model's output holding the token states. Default <c>last_hidden_state</c>.</summary>
    [JsonPropertyName("source")]
    public string? Source { get; init; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Unknown { get; set; }
}
