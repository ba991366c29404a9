using System.Runtime.InteropServices;
using System.Text.Json;
using MaaS.Core.Tensors;

namespace MaaS.Core.Inference;

/// <summary>
/// Writes a KServe V1 response, <c>{"predictions": [...]}</c>, with nested arrays. A batching model gives one
/// prediction per instance: the row itself for a single output, an object keyed by output name for several. A model
/// without a batch axis gives its single output's rows, or one object holding every output.
/// </summary>
public static class PredictResponseWriter
{
    public static void Write(Utf8JsonWriter writer, InferResult result, bool batched)
    {
        writer.WriteStartObject();
        writer.WriteStartArray("predictions"u8);
        var outputs = result.Outputs;
        if (!batched)
        {
            WriteUnbatched(writer, outputs);
        }
        else
        {
            var rows = outputs.Count == 0 || outputs[0].Shape.Length == 0 ? 0 : outputs[0].Shape[0];
            for (var row = 0; row < rows; row++)
            {
                if (outputs.Count == 1)
                {
                    WriteRow(writer, outputs[0], row);
                    continue;
                }

                writer.WriteStartObject();
                foreach (var output in outputs)
                {
                    writer.WritePropertyName(output.Name);
                    WriteRow(writer, output, row);
                }

                writer.WriteEndObject();
            }
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    private static void WriteUnbatched(Utf8JsonWriter writer, IReadOnlyList<InferOutput> outputs)
    {
        if (outputs.Count == 1)
        {
            var single = outputs[0];
            var rows = single.Shape.Length == 0 ? 1 : single.Shape[0];
            for (var row = 0; row < rows; row++)
            {
                WriteRow(writer, single, row);
            }

            return;
        }

        writer.WriteStartObject();
        foreach (var output in outputs)
        {
            writer.WritePropertyName(output.Name);
            WriteNested(writer, output, output.Shape, 0, output.ElementCount);
        }

        writer.WriteEndObject();
    }

    /// <summary>Row <paramref name="row"/> along the first dim (a rank-0 tensor is its own single row).</summary>
    private static void WriteRow(Utf8JsonWriter writer, InferOutput output, long row)
    {
        if (output.Shape.Length == 0)
        {
            WriteNested(writer, output, [], 0, 1);
            return;
        }

        var rowShape = output.Shape.AsSpan(1);
        var rowCount = TensorShape.ElementCount(rowShape);
        WriteNested(writer, output, rowShape, row * rowCount, rowCount);
    }

    private static void WriteNested(Utf8JsonWriter writer, InferOutput output, ReadOnlySpan<long> shape, long start, long count)
    {
        if (shape.Length == 0)
        {
            WriteElements(writer, output, start, 1);
            return;
        }

        writer.WriteStartArray();
        if (shape.Length == 1)
        {
            WriteElements(writer, output, start, count);
        }
        else
        {
            var inner = count / Math.Max(shape[0], 1);
            for (var i = 0; i < shape[0]; i++)
            {
                WriteNested(writer, output, shape[1..], start + (i * inner), inner);
            }
        }

        writer.WriteEndArray();
    }

    private static void WriteElements(Utf8JsonWriter writer, InferOutput output, long start, long count)
    {
        if (output.DataType == TensorDataType.Bytes)
        {
            var offset = 0;
            for (var i = 0; i < start + count; i++)
            {
                var element = output.GetBytesElement(i, ref offset);
                if (i >= start)
                {
                    JsonTensorWriter.WriteString(writer, element);
                }
            }

            return;
        }

        var size = output.DataType.ElementSize();
        var data = output.FixedData.Slice((int)(start * size), (int)(count * size));
        switch (output.DataType)
        {
            case TensorDataType.Fp16:
                foreach (var bits in MemoryMarshal.Cast<byte, ushort>(data))
                {
                    JsonTensorWriter.WriteFloat(writer, HalfPrecision.FromFloat16Bits(bits));
                }

                break;
            case TensorDataType.Bf16:
                foreach (var bits in MemoryMarshal.Cast<byte, ushort>(data))
                {
                    JsonTensorWriter.WriteFloat(writer, HalfPrecision.FromBFloat16Bits(bits));
                }

                break;
            default:
                JsonTensorWriter.WriteElements(writer, output.DataType, data);
                break;
        }
    }
}
