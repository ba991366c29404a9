using System.Text.Json;

namespace MaaS.Core.Explain;

/// <summary>
/// What an explanation request asks for, read from its <c>"parameters"</c>: the method (null: chosen from the inputs),
/// the target, the baseline, and the method's own settings. Values are checked against the model later, when the
/// version that runs the request is known.
/// </summary>
public sealed record ExplainParameters
{
    /// <summary>Request parameters that belong to inference, not to the explanation; accepted and left to the reader.</summary>
    private static readonly string[] InferenceKeys = ["binary_data_output", "priority", "timeout"];

    public ExplainMethod? Method { get; init; }

    /// <summary>The output to explain; null: the model's only output.</summary>
    public string? TargetOutput { get; init; }

    /// <summary>The element of the target output's row; null: the largest of the row (the only one for a scalar).</summary>
    public long? TargetIndex { get; init; }

    /// <summary>A constant baseline value for every element (0 by default).</summary>
    public double BaselineValue { get; init; }

    /// <summary>Baseline tensors by input name (flat, row-major), with their shapes; absent inputs use <see cref="BaselineValue"/>.</summary>
    public IReadOnlyDictionary<string, (long[] Shape, double[] Data)> BaselineTensors { get; init; } =
        new Dictionary<string, (long[] Shape, double[] Data)>(StringComparer.Ordinal);

    /// <summary>KernelSHAP coalitions sampled per row; null: the default.</summary>
    public int? Samples { get; init; }

    public int Seed { get; init; }

    /// <summary>Occlusion window (and Shapley feature groups), over the trailing dims of a row; null: the default.</summary>
    public int[]? Window { get; init; }

    public int[]? Stride { get; init; }

    public IReadOnlyList<string> TokenInputs { get; init; } = [];

    public string? MaskInput { get; init; }

    /// <summary>The token id a masked step takes when the request names no mask input.</summary>
    public double MaskValue { get; init; }

    /// <summary>Reads the request's parameters (null or empty: every default); a wrong key or value is a 400 naming it.</summary>
    public static ExplainParameters Parse(ReadOnlySpan<byte> json)
    {
        if (json.IsEmpty)
        {
            return new ExplainParameters();
        }

        using var document = JsonDocument.Parse(json.ToArray());
        var result = new ExplainParameters();
        foreach (var property in document.RootElement.EnumerateObject())
        {
            result = Apply(result, property);
        }

        return result;
    }

    private static ExplainParameters Apply(ExplainParameters result, JsonProperty property)
    {
        var value = property.Value;
        return property.Name switch
        {
            "method" => result with { Method = ParseMethod(value) },
            "target" => ParseTarget(result, value),
            "baseline" => ParseBaseline(result, value),
            "samples" => result with { Samples = ReadInt(value, "parameter 'samples' (KernelSHAP coalitions per row)", 1) },
            "seed" => result with { Seed = value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var seed) ? seed : throw ServingException.Invalid("parameter 'seed' must be a 32-bit integer") },
            "window" => result with { Window = ReadSizes(value, "window") },
            "stride" => result with { Stride = ReadSizes(value, "stride") },
            "token_inputs" => result with { TokenInputs = ReadNames(value) },
            "mask_input" => result with { MaskInput = value.ValueKind == JsonValueKind.String ? value.GetString() : throw ServingException.Invalid("parameter 'mask_input' must be an input name") },
            "mask_value" => result with { MaskValue = value.ValueKind == JsonValueKind.Number ? value.GetDouble() : throw ServingException.Invalid("parameter 'mask_value' must be a number (the token id of a masked step)") },
            _ when InferenceKeys.Contains(property.Name) => result,
            _ => throw ServingException.Invalid(
                $"unknown explanation parameter '{property.Name}'; expected method, target, baseline, samples, seed, window, stride, token_inputs, mask_input, mask_value"),
        };
    }

    private static ExplainMethod ParseMethod(JsonElement value) => (value.ValueKind == JsonValueKind.String ? value.GetString() : null) switch
    {
        "shapley" => ExplainMethod.Shapley,
        "occlusion" => ExplainMethod.Occlusion,
        "tokens" => ExplainMethod.Tokens,
        var other => throw ServingException.Invalid($"unknown explanation method '{other ?? value.GetRawText()}'; expected \"shapley\", \"occlusion\" or \"tokens\""),
    };

    private static ExplainParameters ParseTarget(ExplainParameters result, JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            throw ServingException.Invalid("parameter 'target' must be an object {\"output\": name, \"index\": element of the output's row}");
        }

        foreach (var property in value.EnumerateObject())
        {
            result = property.Name switch
            {
                "output" => result with { TargetOutput = property.Value.ValueKind == JsonValueKind.String ? property.Value.GetString() : throw ServingException.Invalid("target 'output' must be an output name") },
                "index" => result with { TargetIndex = ReadInt(property.Value, "target 'index'", 0) },
                _ => throw ServingException.Invalid($"unknown key '{property.Name}' in 'target'; expected \"output\" and \"index\""),
            };
        }

        return result;
    }

    private static ExplainParameters ParseBaseline(ExplainParameters result, JsonElement value)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.String when value.GetString() == "zeros":
                return result with { BaselineValue = 0 };
            case JsonValueKind.Number:
                return result with { BaselineValue = value.GetDouble() };
            case JsonValueKind.Array:
                var tensors = new Dictionary<string, (long[] Shape, double[] Data)>(StringComparer.Ordinal);
                foreach (var tensor in value.EnumerateArray())
                {
                    var (name, shape, data) = ReadTensor(tensor);
                    if (!tensors.TryAdd(name, (shape, data)))
                    {
                        throw ServingException.Invalid($"baseline for input '{name}' is given more than once");
                    }
                }

                return result with { BaselineTensors = tensors };
            default:
                throw ServingException.Invalid(
                    "parameter 'baseline' must be \"zeros\", a number, or an array of V2 tensors {\"name\", \"shape\", \"data\"} shaped like the inputs");
        }
    }

    private static (string Name, long[] Shape, double[] Data) ReadTensor(JsonElement tensor)
    {
        if (tensor.ValueKind != JsonValueKind.Object
            || !tensor.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String
            || !tensor.TryGetProperty("shape", out var shapeElement) || shapeElement.ValueKind != JsonValueKind.Array
            || !tensor.TryGetProperty("data", out var dataElement))
        {
            throw ServingException.Invalid("each baseline tensor needs \"name\", \"shape\" and \"data\"");
        }

        var shape = shapeElement.EnumerateArray()
            .Select(dim => dim.ValueKind == JsonValueKind.Number && dim.TryGetInt64(out var size) && size >= 0 ? size : throw ServingException.Invalid($"baseline '{name.GetString()}': shape must hold non-negative integers"))
            .ToArray();
        var data = new List<double>();
        Flatten(dataElement, data, name.GetString()!);
        var count = shape.Aggregate(1L, (product, dim) => product * dim);
        if (count != data.Count)
        {
            throw ServingException.Invalid($"baseline '{name.GetString()}' has {data.Count} values; its shape [{string.Join(',', shape)}] needs {count}");
        }

        return (name.GetString()!, shape, [.. data]);
    }

    private static void Flatten(JsonElement element, List<double> data, string name)
    {
        if (element.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in element.EnumerateArray())
            {
                Flatten(item, data, name);
            }
        }
        else if (element.ValueKind == JsonValueKind.Number)
        {
            data.Add(element.GetDouble());
        }
        else if (element.ValueKind is JsonValueKind.True or JsonValueKind.False)
        {
            data.Add(element.ValueKind == JsonValueKind.True ? 1 : 0);
        }
        else
        {
            throw ServingException.Invalid($"baseline '{name}': \"data\" must hold numbers");
        }
    }

    private static int ReadInt(JsonElement value, string what, int minimum) =>
        value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var number) && number >= minimum
            ? number
            : throw ServingException.Invalid($"{what} must be an integer of at least {minimum}");

    private static int[] ReadSizes(JsonElement value, string what)
    {
        if (value.ValueKind == JsonValueKind.Number)
        {
            return [ReadInt(value, $"parameter '{what}'", 1)];
        }

        if (value.ValueKind != JsonValueKind.Array || value.GetArrayLength() == 0)
        {
            throw ServingException.Invalid($"parameter '{what}' must be a positive integer or an array of them (sizes along a row's trailing dims)");
        }

        return [.. value.EnumerateArray().Select(item => ReadInt(item, $"each entry of '{what}'", 1))];
    }

    private static string[] ReadNames(JsonElement value) =>
        value.ValueKind == JsonValueKind.Array && value.EnumerateArray().All(item => item.ValueKind == JsonValueKind.String)
            ? [.. value.EnumerateArray().Select(item => item.GetString()!)]
            : throw ServingException.Invalid("parameter 'token_inputs' must be an array of input names");
}
