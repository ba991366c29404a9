using System.Text.Json;

namespace MaaS.Core.Optimization;

/// <summary>
/// The body of <c>POST /v2/repository/models/{m}/versions/{v}/optimize</c>: the method, optional validation inputs (a
/// V2 <c>inputs</c> array, decoded against the model once it is known), optional acceptance bounds and a label to move.
/// </summary>
public sealed record OptimizeRequest
{
    private const string Expected =
        "expected a JSON object {\"method\": \"int8\" | \"fp16\" | \"graph\", \"inputs\": [V2 input tensors], \"max_abs_diff\": x, \"min_cosine\": x, \"min_top1_agreement\": x, \"label\": \"name\"} with only \"method\" required";

    public required string Method { get; init; }

    /// <summary>The request's <c>inputs</c> array as JSON, or null when the server is to choose the validation inputs.</summary>
    public byte[]? Inputs { get; init; }

    public double? MaxAbsDiff { get; init; }

    public double? MinCosine { get; init; }

    public double? MinTop1Agreement { get; init; }

    public string? Label { get; init; }

    /// <summary>Reads the body; 400 naming what is wrong (not JSON, no method, an unknown key, a bound out of range).</summary>
    public static OptimizeRequest Parse(ReadOnlyMemory<byte> body)
    {
        try
        {
            using var document = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = Inference.InferRequestReader.MaxDepth });
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw ServingException.Invalid($"the optimize request is not a JSON object; {Expected}");
            }

            string? method = null;
            byte[]? inputs = null;
            double? maxAbsDiff = null, minCosine = null, minTop1 = null;
            string? label = null;
            foreach (var property in root.EnumerateObject())
            {
                var value = property.Value;
                switch (property.Name)
                {
                    case "method":
                        method = Text(value, "method");
                        break;
                    case "inputs":
                        inputs = value.ValueKind == JsonValueKind.Array && value.GetArrayLength() > 0
                            ? JsonSerializer.SerializeToUtf8Bytes(value, Inference.CoreJsonContext.Default.JsonElement)
                            : throw ServingException.Invalid("\"inputs\" must be a non-empty array of V2 input tensors ({\"name\", \"datatype\", \"shape\", \"data\"})");
                        break;
                    case "max_abs_diff":
                        maxAbsDiff = Bound(value, "max_abs_diff", 0, double.MaxValue, "0 or more");
                        break;
                    case "min_cosine":
                        minCosine = Bound(value, "min_cosine", -1, 1, "from -1 to 1");
                        break;
                    case "min_top1_agreement":
                        minTop1 = Bound(value, "min_top1_agreement", 0, 1, "from 0 to 1");
                        break;
                    case "label":
                        label = Text(value, "label");
                        break;
                    default:
                        throw ServingException.Invalid($"unknown key \"{property.Name}\" in the optimize request; {Expected}");
                }
            }

            return new OptimizeRequest
            {
                Method = method ?? throw ServingException.Invalid($"the optimize request has no \"method\"; {Expected}"),
                Inputs = inputs,
                MaxAbsDiff = maxAbsDiff,
                MinCosine = minCosine,
                MinTop1Agreement = minTop1,
                Label = label,
            };
        }
        catch (JsonException ex)
        {
            throw new ServingException(FailureKind.InvalidInput, $"the optimize request is not valid JSON ({ex.Message}); {Expected}", ex);
        }
    }

    private static string Text(JsonElement value, string name) =>
        value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } text
            ? text
            : throw ServingException.Invalid($"\"{name}\" must be a non-empty string");

    private static double Bound(JsonElement value, string name, double min, double max, string range) =>
        value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var number) && number >= min && number <= max
            ? number
            : throw ServingException.Invalid($"\"{name}\" must be a number {range}");
}
