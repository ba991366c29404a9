using System.Globalization;
using System.Text.Json;

namespace MaaS.Core.Explain;

/// <summary>
/// Writes an explanation as a V2 response (one FP32 output per attributed input, named and shaped like it, and what
/// was explained in <c>parameters</c>) or as KServe V1's <c>{"predictions", "explanations"}</c>.
/// </summary>
public static class ExplanationWriter
{
    public static void WriteV2(Utf8JsonWriter writer, Explanation explanation, string? id, string modelName, long modelVersion)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(explanation);
        writer.WriteStartObject();
        if (id is not null)
        {
            writer.WriteString("id"u8, id);
        }

        writer.WriteString("model_name"u8, modelName);
        writer.WriteString("model_version"u8, modelVersion.ToString(CultureInfo.InvariantCulture));
        writer.WritePropertyName("parameters"u8);
        WriteParameters(writer, explanation);
        writer.WriteStartArray("outputs"u8);
        foreach (var attribution in explanation.Attributions)
        {
            writer.WriteStartObject();
            writer.WriteString("name"u8, attribution.Name);
            writer.WriteString("datatype"u8, "FP32"u8);
            writer.WriteStartArray("shape"u8);
            foreach (var dim in attribution.Shape)
            {
                writer.WriteNumberValue(dim);
            }

            writer.WriteEndArray();
            writer.WriteStartArray("data"u8);
            foreach (var value in attribution.Values)
            {
                WriteNumber(writer, value);
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        if (explanation.Tokens is { } tokens)
        {
            WriteTokens(writer, tokens, explanation.Attributions[0].Shape);
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    /// <summary>
    /// A text pipeline's tokens as a BYTES output <c>tokens</c> shaped like the attributions ([texts, longest]): row r's
    /// tokens, then empty strings where a shorter text was padded (their attributions are 0).
    /// </summary>
    private static void WriteTokens(Utf8JsonWriter writer, IReadOnlyList<string[]> tokens, long[] shape)
    {
        writer.WriteStartObject();
        writer.WriteString("name"u8, "tokens"u8);
        writer.WriteString("datatype"u8, "BYTES"u8);
        writer.WriteStartArray("shape"u8);
        foreach (var dim in shape)
        {
            writer.WriteNumberValue(dim);
        }

        writer.WriteEndArray();
        writer.WriteStartArray("data"u8);
        foreach (var row in tokens)
        {
            for (var t = 0; t < shape[^1]; t++)
            {
                writer.WriteStringValue(t < row.Length ? row[t] : string.Empty);
            }
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    /// <summary>
    /// KServe V1: <c>predictions</c> (the target's value per row), <c>explanations</c> (per row, each attributed input's
    /// attributions for that row as a flat list), and the same <c>parameters</c> as V2. A text pipeline's row also has
    /// <c>tokens</c>, and its attributions are that row's tokens' only (no padding).
    /// </summary>
    public static void WriteV1(Utf8JsonWriter writer, Explanation explanation, IReadOnlyList<long[]> rowShapes)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(explanation);
        ArgumentNullException.ThrowIfNull(rowShapes);
        writer.WriteStartObject();
        writer.WriteStartArray("predictions"u8);
        foreach (var value in explanation.Prediction)
        {
            WriteNumber(writer, value);
        }

        writer.WriteEndArray();
        writer.WriteStartArray("explanations"u8);
        for (var row = 0; row < explanation.Prediction.Length; row++)
        {
            writer.WriteStartObject();
            for (var k = 0; k < explanation.Attributions.Count; k++)
            {
                var attribution = explanation.Attributions[k];
                var perRow = attribution.Values.Length / explanation.Prediction.Length;
                var values = attribution.Values.AsSpan(row * perRow, perRow);
                writer.WritePropertyName(attribution.Name);
                if (explanation.Tokens is { } rowTokens)
                {
                    WriteNested(writer, values[..rowTokens[row].Length], [rowTokens[row].Length]);
                }
                else
                {
                    WriteNested(writer, values, rowShapes[k]);
                }
            }

            if (explanation.Tokens is { } tokens)
            {
                writer.WriteStartArray("tokens"u8);
                foreach (var token in tokens[row])
                {
                    writer.WriteStringValue(token);
                }

                writer.WriteEndArray();
            }

            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WritePropertyName("parameters"u8);
        WriteParameters(writer, explanation);
        writer.WriteEndObject();
    }

    private static void WriteParameters(Utf8JsonWriter writer, Explanation explanation)
    {
        writer.WriteStartObject();
        writer.WriteString("method"u8, explanation.Method.ToString().ToLowerInvariant());
        if (explanation.Estimator is not null)
        {
            writer.WriteString("estimator"u8, explanation.Estimator);
        }

        if (explanation.Samples is { } samples)
        {
            writer.WriteNumber("samples"u8, samples);
        }

        writer.WriteStartObject("target"u8);
        writer.WriteString("output"u8, explanation.TargetOutput);
        if (explanation.TargetIndex is { } target)
        {
            writer.WriteStartArray("index"u8);
            foreach (var index in target)
            {
                writer.WriteNumberValue(index);
            }

            writer.WriteEndArray();
        }

        if (explanation.TargetSimilarity is { } similarity)
        {
            writer.WriteString("similarity"u8, similarity);
        }

        writer.WriteEndObject();
        WriteNumbers(writer, "prediction"u8, explanation.Prediction);
        WriteNumbers(writer, "baseline_prediction"u8, explanation.BaselinePrediction);
        writer.WriteNumber("evaluations"u8, explanation.Evaluations);
        if (explanation.Image is { } image)
        {
            writer.WriteStartObject("image"u8);
            writer.WriteString("layout"u8, image.Layout);
            writer.WriteNumber("channels"u8, image.Channels);
            writer.WriteNumber("height"u8, image.Height);
            writer.WriteNumber("width"u8, image.Width);
            writer.WriteEndObject();
        }

        writer.WriteStartArray("held_fixed"u8);
        foreach (var name in explanation.HeldFixed)
        {
            writer.WriteStringValue(name);
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    private static void WriteNumbers(Utf8JsonWriter writer, ReadOnlySpan<byte> name, double[] values)
    {
        writer.WriteStartArray(name);
        foreach (var value in values)
        {
            WriteNumber(writer, value);
        }

        writer.WriteEndArray();
    }

    /// <summary>JSON has no NaN or infinity: a model that produces them gets null there rather than a broken body.</summary>
    private static void WriteNumber(Utf8JsonWriter writer, double value)
    {
        if (double.IsFinite(value))
        {
            writer.WriteNumberValue(value);
        }
        else
        {
            writer.WriteNullValue();
        }
    }

    private static void WriteNumber(Utf8JsonWriter writer, float value)
    {
        if (float.IsFinite(value))
        {
            writer.WriteNumberValue(value);
        }
        else
        {
            writer.WriteNullValue();
        }
    }

    private static void WriteNested(Utf8JsonWriter writer, ReadOnlySpan<float> values, ReadOnlySpan<long> shape)
    {
        if (shape.IsEmpty)
        {
            WriteNumber(writer, values[0]);
            return;
        }

        var inner = values.Length / (int)shape[0];
        writer.WriteStartArray();
        for (var i = 0; i < shape[0]; i++)
        {
            WriteNested(writer, values.Slice(i * inner, inner), shape[1..]);
        }

        writer.WriteEndArray();
    }
}
