using System.Text.Json;
using System.Text.Json.Serialization;

namespace MaaS.Core.Config;

/// <summary>
/// The image step (docs/pipelines.md): decode, resize to the inner model's input size (height and width from its
/// dims), take the channels, then <c>(v · scale − mean) / std</c> per channel, in the inner model's layout.
/// </summary>
public sealed record ImageStepConfig
{
    /// <summary>The inner model's FP32 image input. Default: its only input.</summary>
    [JsonPropertyName("input")]
    public string? Input { get; init; }

    /// <summary><c>gray</c> (luminance), <c>rgb</c> or <c>bgr</c>. Default <c>rgb</c>.</summary>
    [JsonPropertyName("channels")]
    public string? Channels { get; init; }

    /// <summary><c>NCHW</c> or <c>NHWC</c>. Default <c>NCHW</c>.</summary>
    [JsonPropertyName("layout")]
    public string? Layout { get; init; }

    /// <summary><c>stretch</c> (to the size, aspect ratio not kept) or <c>center_crop</c> (cover the size, crop the middle). Default <c>stretch</c>.</summary>
    [JsonPropertyName("resize")]
    public string? Resize { get; init; }

    /// <summary>Replace each 0..255 value v by 255 − v first (a dark-on-light image for a model trained light-on-dark). Default false.</summary>
    [JsonPropertyName("invert")]
    public bool? Invert { get; init; }

    /// <summary>Multiplies each 0..255 value. Default 1/255.</summary>
    [JsonPropertyName("scale")]
    public double? Scale { get; init; }

    /// <summary>Subtracted after scaling: one value, or one per channel. Default 0.</summary>
    [JsonPropertyName("mean")]
    public double[]? Mean { get; init; }

    /// <summary>Divides after the mean: one value, or one per channel. Default 1.</summary>
    [JsonPropertyName("std")]
    public double[]? Std { get; init; }

    /// <summary>Most images per request. Default 64, range 1..4096.</summary>
    [JsonPropertyName("max_images")]
    public int? MaxImages { get; init; }

    /// <summary>Most encoded bytes per image. Default 16 MiB, range 1..2^31−1.</summary>
    [JsonPropertyName("max_bytes")]
    public long? MaxBytes { get; init; }

    /// <summary>Most pixels (width × height) per image, checked before decoding. Default 16,777,216 (4096 × 4096), range 1..2^28.</summary>
    [JsonPropertyName("max_pixels")]
    public long? MaxPixels { get; init; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Unknown { get; set; }
}
