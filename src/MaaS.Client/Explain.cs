using System.Text.Json;

namespace MaaS.Client;

/// <summary>
/// What an explanation asks for (<c>POST /v2/models/{m}/explain</c>, docs/explain.md). Every null takes the server's
/// default: the method follows from the inputs, the target is the row's largest element of the only output.
/// </summary>
public sealed record ExplainOptions
{
    /// <summary>The version: newest READY by default, or a number, or a label.</summary>
    public ModelVersion Version { get; init; }

    /// <summary><c>shapley</c>, <c>occlusion</c> or <c>tokens</c>.</summary>
    public string? Method { get; init; }

    /// <summary>The output explained; required when the model has several.</summary>
    public string? TargetOutput { get; init; }

    /// <summary>The element of the output's row explained; default: the row's largest.</summary>
    public int? TargetIndex { get; init; }

    /// <summary>What an absent feature is set to; null: zeros.</summary>
    public ExplainBaseline? Baseline { get; init; }

    /// <summary>KernelSHAP coalitions sampled per row.</summary>
    public int? Samples { get; init; }

    /// <summary>KernelSHAP's random seed: the same seed gives the same answer.</summary>
    public int? Seed { get; init; }

    /// <summary>
    /// Occlusion window (and Shapley feature groups): one value is one size for the row's last two dimensions (sent as
    /// a number); several are one size per trailing dimension, e.g. [1, 4, 4].
    /// </summary>
    public IReadOnlyList<int>? Window { get; init; }

    /// <summary>Occlusion step: one value for every window dimension (sent as a number), or one per window dimension; default the window.</summary>
    public IReadOnlyList<int>? Stride { get; init; }

    /// <summary><c>tokens</c>: the inputs holding token ids.</summary>
    public IReadOnlyList<string>? TokenInputs { get; init; }

    /// <summary><c>tokens</c>: the attention mask input.</summary>
    public string? MaskInput { get; init; }

    /// <summary><c>tokens</c> without a mask input: the id a masked token takes.</summary>
    public double? MaskValue { get; init; }

    /// <summary>Input tensors as the binary extension (default) or as JSON <c>data</c> (FP16/BF16 stay binary).</summary>
    public bool Binary { get; init; } = true;

    /// <summary>Echoed in the answer.</summary>
    public string? Id { get; init; }

    internal void WriteParameters(Utf8JsonWriter writer)
    {
        if (Method is not null)
        {
            writer.WriteString("method", Method);
        }

        if (TargetOutput is not null || TargetIndex is not null)
        {
            writer.WriteStartObject("target");
            if (TargetOutput is not null)
            {
                writer.WriteString("output", TargetOutput);
            }

            if (TargetIndex is { } index)
            {
                writer.WriteNumber("index", index);
            }

            writer.WriteEndObject();
        }

        Baseline?.Write(writer);
        if (Samples is { } samples)
        {
            writer.WriteNumber("samples", samples);
        }

        if (Seed is { } seed)
        {
            writer.WriteNumber("seed", seed);
        }

        WriteSizes(writer, "window", Window);
        WriteSizes(writer, "stride", Stride);
        if (TokenInputs is not null)
        {
            writer.WriteStartArray("token_inputs");
            foreach (var name in TokenInputs)
            {
                writer.WriteStringValue(name);
            }

            writer.WriteEndArray();
        }

        if (MaskInput is not null)
        {
            writer.WriteString("mask_input", MaskInput);
        }

        if (MaskValue is { } maskValue)
        {
            writer.WriteNumber("mask_value", maskValue);
        }
    }

    private static void WriteSizes(Utf8JsonWriter writer, string name, IReadOnlyList<int>? sizes)
    {
        if (sizes is null)
        {
            return;
        }

        if (sizes.Count == 1)
        {
            writer.WriteNumber(name, sizes[0]);
            return;
        }

        writer.WriteStartArray(name);
        foreach (var size in sizes)
        {
            writer.WriteNumberValue(size);
        }

        writer.WriteEndArray();
    }
}

/// <summary>What an absent feature is set to: zeros, one number for every element, or tensors shaped like the inputs (or one row of them).</summary>
public sealed class ExplainBaseline
{
    private readonly double? _value;
    private readonly IReadOnlyList<InferInput>? _tensors;

    private ExplainBaseline(double? value, IReadOnlyList<InferInput>? tensors)
    {
        _value = value;
        _tensors = tensors;
    }

    public static ExplainBaseline Zeros { get; } = new(null, null);

    public static ExplainBaseline Constant(double value) =>
        double.IsFinite(value) ? new ExplainBaseline(value, null) : throw new ArgumentOutOfRangeException(nameof(value), "a baseline is a finite number");

    /// <summary>Per input; inputs not named use 0. Tensors travel as JSON, so FP16/BF16 cannot be given here.</summary>
    public static ExplainBaseline FromTensors(IReadOnlyList<InferInput> tensors)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        foreach (var tensor in tensors)
        {
            if (!TensorLayout.HasJsonForm(tensor.Datatype))
            {
                throw new ArgumentException($"baseline '{tensor.Name}' is {tensor.Datatype}, which has no JSON form", nameof(tensors));
            }
        }

        return new ExplainBaseline(null, tensors);
    }

    internal void Write(Utf8JsonWriter writer)
    {
        if (_value is { } value)
        {
            writer.WriteNumber("baseline", value);
            return;
        }

        if (_tensors is null)
        {
            writer.WriteString("baseline", "zeros");
            return;
        }

        writer.WriteStartArray("baseline");
        foreach (var tensor in _tensors)
        {
            writer.WriteStartObject();
            writer.WriteString("name", tensor.Name);
            writer.WriteStartArray("shape");
            foreach (var dim in tensor.Shape)
            {
                writer.WriteNumberValue(dim);
            }

            writer.WriteEndArray();
            writer.WritePropertyName("data");
            TensorLayout.WriteJson(writer, tensor.Datatype, tensor.Data.Span);
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
    }
}

/// <summary>
/// An explanation: one FP32 attribution tensor per attributed input (named and shaped like it; NaN where the server
/// wrote null for a value that was not finite), and what was explained.
/// </summary>
public sealed class ExplainResult
{
    internal ExplainResult(string json, string modelName, string modelVersion, string? id, IReadOnlyList<InferOutput> attributions, IReadOnlyDictionary<string, JsonElement> parameters)
    {
        Json = json;
        ModelName = modelName;
        ModelVersion = modelVersion;
        Id = id;
        Attributions = attributions;
        Parameters = parameters;
    }

    /// <summary>The server's answer as it came.</summary>
    public string Json { get; }

    public string ModelName { get; }

    public string ModelVersion { get; }

    public string? Id { get; }

    /// <summary>The attributions, one FP32 tensor per attributed input.</summary>
    public IReadOnlyList<InferOutput> Attributions { get; }

    /// <summary>Every answer parameter as the server wrote it, those typed below and any other.</summary>
    public IReadOnlyDictionary<string, JsonElement> Parameters { get; }

    /// <summary><c>shapley</c>, <c>occlusion</c> or <c>tokens</c>.</summary>
    public string Method => Parameters.TryGetValue("method", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString()! : "";

    /// <summary>Shapley only: <c>exact</c> or <c>kernel</c>.</summary>
    public string? Estimator => Parameters.TryGetValue("estimator", out var e) && e.ValueKind == JsonValueKind.String ? e.GetString() : null;

    /// <summary>KernelSHAP's coalitions per row.</summary>
    public int? Samples => Parameters.TryGetValue("samples", out var s) && s.ValueKind == JsonValueKind.Number ? s.GetInt32() : null;

    /// <summary>The output explained.</summary>
    public string? TargetOutput =>
        Parameters.TryGetValue("target", out var t) && t.ValueKind == JsonValueKind.Object && t.TryGetProperty("output", out var o) && o.ValueKind == JsonValueKind.String ? o.GetString() : null;

    /// <summary>The element of the output's row explained, per request row.</summary>
    public IReadOnlyList<long> TargetIndex =>
        Parameters.TryGetValue("target", out var t) && t.ValueKind == JsonValueKind.Object && t.TryGetProperty("index", out var i) && i.ValueKind == JsonValueKind.Array
            ? i.EnumerateArray().Select(x => x.GetInt64()).ToList()
            : [];

    /// <summary>f(x) per row.</summary>
    public IReadOnlyList<double> Prediction => Numbers("prediction");

    /// <summary>f(baseline) per row: every attributed feature absent.</summary>
    public IReadOnlyList<double> BaselinePrediction => Numbers("baseline_prediction");

    /// <summary>Forward passes made, counted in rows.</summary>
    public long Evaluations => Parameters.TryGetValue("evaluations", out var e) && e.ValueKind == JsonValueKind.Number ? e.GetInt64() : 0;

    /// <summary>Inputs held at the request's values in every evaluation.</summary>
    public IReadOnlyList<string> HeldFixed =>
        Parameters.TryGetValue("held_fixed", out var h) && h.ValueKind == JsonValueKind.Array ? h.EnumerateArray().Select(x => x.GetString() ?? "").ToList() : [];

    public InferOutput this[string input] =>
        Attributions.FirstOrDefault(a => a.Name == input) ?? throw new KeyNotFoundException($"no attributions for input '{input}'");

    private List<double> Numbers(string name) =>
        Parameters.TryGetValue(name, out var values) && values.ValueKind == JsonValueKind.Array
            ? values.EnumerateArray().Select(v => v.ValueKind == JsonValueKind.Number ? v.GetDouble() : double.NaN).ToList()
            : [];

    internal static ExplainResult Parse(string json)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            var root = document.RootElement;
            var parameters = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
            if (root.TryGetProperty("parameters", out var items) && items.ValueKind == JsonValueKind.Object)
            {
                foreach (var property in items.EnumerateObject())
                {
                    parameters[property.Name] = property.Value.Clone();
                }
            }

            var attributions = new List<InferOutput>();
            if (root.TryGetProperty("outputs", out var outputs))
            {
                foreach (var output in outputs.EnumerateArray())
                {
                    var shape = output.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()).ToArray();
                    var values = new float[InferInput.ElementCount(shape)];
                    var k = 0;
                    foreach (var leaf in TensorLayout.Leaves(output.GetProperty("data")))
                    {
                        values[k++] = leaf.ValueKind == JsonValueKind.Null ? float.NaN : leaf.GetSingle();
                    }

                    if (k != values.Length)
                    {
                        throw new FormatException($"attributions of '{output.GetProperty("name").GetString()}' have {k} values for {values.Length} elements");
                    }

                    attributions.Add(new InferOutput(output.GetProperty("name").GetString()!, Datatypes.Fp32, shape, System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()).ToArray()));
                }
            }

            return new ExplainResult(
                json,
                root.GetProperty("model_name").GetString()!,
                root.TryGetProperty("model_version", out var version) ? version.GetString() ?? "" : "",
                root.TryGetProperty("id", out var id) ? id.GetString() : null,
                attributions,
                parameters);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException or IndexOutOfRangeException)
        {
            throw new MaaSException(null, "the server's explanation is malformed: " + e.Message, e);
        }
    }
}
