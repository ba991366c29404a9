using System.Buffers;
using System.Globalization;
using System.Text.Json;
using MaaS.Core.Tensors;

namespace MaaS.Core.Inference;

/// <summary>
/// Encodes an <see cref="InferResult"/> as an Open Inference Protocol V2 response: the JSON part (id, model_name,
/// model_version, outputs), and the binary blobs of outputs sent with the binary tensor data extension. Data is read
/// straight from ONNX Runtime's output tensors.
/// </summary>
public static class InferResponseWriter
{
    /// <summary>True when some output goes after the JSON as binary (then the response needs Inference-Header-Content-Length).</summary>
    public static bool HasBinaryOutputs(InferResult result)
    {
        foreach (var output in result.Outputs)
        {
            if (output.Binary)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Writes the JSON part. Binary outputs get parameters.binary_data_size instead of data.</summary>
    public static void WriteJson(Utf8JsonWriter writer, InferResult result, string? id, string modelName, long modelVersion)
    {
        writer.WriteStartObject();
        if (id is not null)
        {
            writer.WriteString("id"u8, id);
        }

        writer.WriteString("model_name"u8, modelName);
        writer.WriteString("model_version"u8, modelVersion.ToString(CultureInfo.InvariantCulture));
        writer.WriteStartArray("outputs"u8);
        foreach (var output in result.Outputs)
        {
            WriteOutput(writer, output);
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    /// <summary>Writes one binary output's bytes (BYTES: length-prefixed elements).</summary>
    public static void WriteBinary(IBufferWriter<byte> writer, InferOutput output)
    {
        if (output.DataType != TensorDataType.Bytes)
        {
            writer.Write(output.FixedData);
            return;
        }

        var offset = 0;
        var count = output.ElementCount;
        for (var i = 0; i < count; i++)
        {
            var element = output.GetBytesElement(i, ref offset);
            var span = writer.GetSpan(4 + element.Length);
            writer.Advance(BytesElements.Write(span, element));
        }
    }

    private static void WriteOutput(Utf8JsonWriter writer, InferOutput output)
    {
        writer.WriteStartObject();
        writer.WriteString("name"u8, output.Name);
        writer.WriteString("datatype"u8, output.DataType.ToProtocolName());
        writer.WriteStartArray("shape"u8);
        foreach (var dim in output.Shape)
        {
            writer.WriteNumberValue(dim);
        }

        writer.WriteEndArray();
        if (output.Binary)
        {
            writer.WriteStartObject("parameters"u8);
            writer.WriteNumber("binary_data_size"u8, output.BinarySize);
            writer.WriteEndObject();
        }
        else
        {
            writer.WriteStartArray("data"u8);
            WriteData(writer, output);
            writer.WriteEndArray();
        }

        writer.WriteEndObject();
    }

    private static void WriteData(Utf8JsonWriter writer, InferOutput output)
    {
        if (output.DataType != TensorDataType.Bytes)
        {
            JsonTensorWriter.WriteElements(writer, output.DataType, output.FixedData);
            return;
        }

        var offset = 0;
        var count = output.ElementCount;
        for (var i = 0; i < count; i++)
        {
            JsonTensorWriter.WriteString(writer, output.GetBytesElement(i, ref offset));
        }
    }
}
