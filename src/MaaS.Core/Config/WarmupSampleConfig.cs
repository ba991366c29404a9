using System.Text.Json;
using System.Text.Json.Serialization;

namespace MaaS.Core.Config;

/// <summary>One <c>model_warmup</c> sample (Triton's form).</summary>
public sealed record WarmupSampleConfig
{
    [JsonPropertyName("name")]
    public string? Name { get; init; }

    /// <summary>Rows of the sample; default 1.</summary>
    [JsonPropertyName("batch_size")]
    public long? BatchSize { get; init; }

    /// <summary>Runs of the sample on every instance; 0 or absent = 1.</summary>
    [JsonPropertyName("count")]
    public long? Count { get; init; }

    /// <summary>Input name -> its data.</summary>
    [JsonPropertyName("inputs")]
    public Dictionary<string, WarmupInputConfig>? Inputs { get; init; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Unknown { get; set; }
}

/// <summary>One input of a warmup sample: zeros (default), random values, or a file under <c>&lt;model&gt;/warmup/</c>.</summary>
public sealed record WarmupInputConfig
{
    [JsonPropertyName("data_type")]
    public string? DataType { get; init; }

    /// <summary>Shape without the batch dim; default: the input's, variable dims 1.</summary>
    [JsonPropertyName("dims")]
    public long[]? Dims { get; init; }

    [JsonPropertyName("zero_data")]
    public bool? ZeroData { get; init; }

    [JsonPropertyName("random_data")]
    public bool? RandomData { get; init; }

    [JsonPropertyName("input_data_file")]
    public string? InputDataFile { get; init; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Unknown { get; set; }
}
