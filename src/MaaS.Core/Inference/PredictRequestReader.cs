using System.Buffers;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using MaaS.Core.Tensors;

namespace MaaS.Core.Inference;

/// <summary>
/// Reads a KServe V1 <c>:predict</c> body. <c>{"instances": [...]}</c> holds one entry per row: for a single-input
/// model each entry is that row as a nested array (so the instances array is the batched tensor itself), for
/// several inputs each entry is an object keyed by input name. <c>{"inputs": ...}</c> is the columnar form: the
/// batched tensor, or an object of them. Shapes come from the nesting, datatypes from the model. Not a hot path:
/// simple clients use it, fast ones use V2.
/// </summary>
public static class PredictRequestReader
{
    /// <param name="json">The request body.</param>
    /// <param name="signature">The model version the request is for.</param>
    /// <param name="keepParameters">Keep the body's <c>"parameters"</c> object in <see cref="InferRequest.ParametersJson"/> (<c>:explain</c> reads it).</param>
    public static InferRequest Read(ReadOnlySpan<byte> json, ModelSignature signature, bool keepParameters = false)
    {
        InferRequest? request = new();
        try
        {
            using var document = JsonDocument.Parse(json.ToArray(), new JsonDocumentOptions { MaxDepth = InferRequestReader.MaxDepth });
            var root = document.RootElement;
            var tensors = root.ValueKind == JsonValueKind.Object ? Columns(root, signature) : null;
            if (tensors is null)
            {
                throw ServingException.Invalid("request body must be {\"instances\": [...]} or {\"inputs\": ...}");
            }

            foreach (var (spec, tensorJson) in tensors)
            {
                request.Inputs.Add(ReadTensor(spec, tensorJson, signature));
            }

            foreach (var spec in signature.Inputs)
            {
                if (!spec.Optional && request.Inputs.FindIndex(input => input.Name == spec.Name) < 0)
                {
                    throw ServingException.Invalid($"missing input '{spec.Name}'; the model expects inputs: {signature.Describe(signature.Inputs)}");
                }
            }

            CheckBatch(request, signature);
            if (keepParameters && root.TryGetProperty("parameters", out var parameters))
            {
                request.ParametersJson = parameters.ValueKind == JsonValueKind.Object
                    ? System.Text.Encoding.UTF8.GetBytes(parameters.GetRawText())
                    : throw ServingException.Invalid("\"parameters\" must be a JSON object");
            }

            foreach (var spec in signature.Outputs)
            {
                request.Outputs.Add(new RequestedOutput(spec.Name, Binary: false));
            }

            var complete = request;
            request = null;
            return complete;
        }
        catch (JsonException ex)
        {
            throw new ServingException(FailureKind.InvalidInput, $"malformed JSON in request: {ex.Message}", ex);
        }
        catch (InvalidOperationException ex)
        {
            // JsonDocument's only failure left once the text has parsed: a name or string that is not valid UTF-8.
            throw new ServingException(FailureKind.InvalidInput, "request holds text that is not valid UTF-8", ex);
        }
        finally
        {
            request?.Dispose();
        }
    }

    /// <summary>Turns the body into one JSON array text per input (the batched tensor), whichever form it came in.</summary>
    private static List<(TensorSpec Spec, byte[] Json)>? Columns(JsonElement root, ModelSignature signature)
    {
        if (root.TryGetProperty("instances", out var instances))
        {
            if (instances.ValueKind != JsonValueKind.Array || instances.GetArrayLength() == 0)
            {
                throw ServingException.Invalid("\"instances\" must be a non-empty array with one entry per row");
            }

            if (instances[0].ValueKind != JsonValueKind.Object)
            {
                return [(SingleInput(signature), JsonSerializer.SerializeToUtf8Bytes(instances, CoreJsonContext.Default.JsonElement))];
            }

            return signature.Inputs
                .Where(spec => instances[0].TryGetProperty(spec.Name, out _) || !spec.Optional)
                .Select(spec => (spec, Stack(instances, spec.Name)))
                .ToList();
        }

        if (root.TryGetProperty("inputs", out var inputs))
        {
            if (inputs.ValueKind != JsonValueKind.Object)
            {
                return [(SingleInput(signature), JsonSerializer.SerializeToUtf8Bytes(inputs, CoreJsonContext.Default.JsonElement))];
            }

            return inputs.EnumerateObject()
                .Select(property => (FindInput(signature, property.Name), JsonSerializer.SerializeToUtf8Bytes(property.Value, CoreJsonContext.Default.JsonElement)))
                .ToList();
        }

        return null;
    }

    private static TensorSpec SingleInput(ModelSignature signature) =>
        signature.Inputs.Count == 1
            ? signature.Inputs[0]
            : throw ServingException.Invalid(
                $"the model has {signature.Inputs.Count} inputs: send each instance as an object keyed by input name ({signature.Describe(signature.Inputs)})");

    private static TensorSpec FindInput(ModelSignature signature, string name) =>
        signature.TryGetInput(name, out var spec)
            ? spec
            : throw ServingException.Invalid($"unknown input '{name}'; the model expects inputs: {signature.Describe(signature.Inputs)}");

    private static byte[] Stack(JsonElement instances, string name)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartArray();
            var row = 0;
            foreach (var instance in instances.EnumerateArray())
            {
                if (instance.ValueKind != JsonValueKind.Object || !instance.TryGetProperty(name, out var value))
                {
                    throw ServingException.Invalid($"instance {row} has no value for input '{name}'");
                }

                value.WriteTo(writer);
                row++;
            }

            writer.WriteEndArray();
        }

        return buffer.WrittenSpan.ToArray();
    }

#pragma warning disable CA2000 // each buffer's ownership moves to its InferInput, which the request disposes
    private static InferInput ReadTensor(TensorSpec spec, byte[] json, ModelSignature signature)
    {
        var shape = InferShape(json, spec.Name);
        var expected = signature.ProtocolShape(spec);
        if (!TensorShape.Matches(shape, expected))
        {
            throw ServingException.Invalid(
                $"input '{spec.Name}' has shape {TensorShape.Format(shape)}; the model expects {TensorShape.Format(expected)} (-1 = any size; the first dim counts instances)");
        }

        var count = TensorShape.ElementCount(shape);
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = InferRequestReader.MaxDepth });
        reader.Read();
        if (spec.DataType is not (TensorDataType.Fp16 or TensorDataType.Bf16))
        {
            var size = spec.DataType == TensorDataType.Bytes ? json.Length + (4 * count) : count * spec.DataType.ElementSize();
            var buffer = TensorBuffer.Rent(checked((int)size));
            try
            {
                buffer.SetLength(JsonTensorReader.Read(ref reader, spec.DataType, count, buffer.Capacity, spec.Name));
                return new InferInput(spec.Name, spec.DataType, shape, buffer);
            }
            catch
            {
                buffer.Dispose();
                throw;
            }
        }

        // Half-precision types have no JSON form in V2; V1 clients send plain numbers, so read FP32 and narrow.
        using var wide = TensorBuffer.Rent(checked((int)(count * 4)));
        JsonTensorReader.Read(ref reader, TensorDataType.Fp32, count, wide.Span, spec.Name);
        return new InferInput(spec.Name, spec.DataType, shape, Narrow(MemoryMarshal.Cast<byte, float>(wide.Span), spec.DataType, spec.Name));
    }
#pragma warning restore CA2000

    private static TensorBuffer Narrow(ReadOnlySpan<float> values, TensorDataType type, string inputName)
    {
        var buffer = TensorBuffer.Rent(values.Length * 2);
        var halves = MemoryMarshal.Cast<byte, ushort>(buffer.Span);
        for (var i = 0; i < values.Length; i++)
        {
            halves[i] = type == TensorDataType.Fp16
                ? BitConverter.HalfToUInt16Bits((Half)values[i])
                : HalfPrecision.ToBFloat16Bits(values[i]);

            // The values are finite (JSON has no infinity): one that narrows to infinity is out of the type's range.
            var narrowed = type == TensorDataType.Fp16 ? HalfPrecision.FromFloat16Bits(halves[i]) : HalfPrecision.FromBFloat16Bits(halves[i]);
            if (!float.IsFinite(narrowed))
            {
                buffer.Dispose();
                throw ServingException.Invalid(
                    $"input '{inputName}': data element {i} ({values[i].ToString(CultureInfo.InvariantCulture)}) is out of range for {type.ToProtocolName()}");
            }
        }

        return buffer;
    }

    /// <summary>The shape of a rectangular nested array; a ragged one is an error.</summary>
    private static long[] InferShape(byte[] json, string name)
    {
        using var document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = InferRequestReader.MaxDepth });
        var shape = new List<long>();
        for (var element = document.RootElement; element.ValueKind == JsonValueKind.Array; element = element.GetArrayLength() > 0 ? element[0] : default)
        {
            shape.Add(element.GetArrayLength());
            if (element.GetArrayLength() == 0)
            {
                break;
            }
        }

        CheckRectangular(document.RootElement, shape, 0, name);
        return [.. shape];
    }

    private static void CheckRectangular(JsonElement element, List<long> shape, int depth, string name)
    {
        var isArray = element.ValueKind == JsonValueKind.Array;
        if (isArray != (depth < shape.Count) || (isArray && element.GetArrayLength() != shape[depth]))
        {
            throw ServingException.Invalid($"input '{name}' is a ragged array; every row must have the same shape ({TensorShape.Format([.. shape])})");
        }

        if (isArray)
        {
            foreach (var child in element.EnumerateArray())
            {
                CheckRectangular(child, shape, depth + 1, name);
            }
        }
    }

    private static void CheckBatch(InferRequest request, ModelSignature signature)
    {
        if (request.Inputs.Count == 0)
        {
            throw ServingException.Invalid($"the request has no inputs; the model expects: {signature.Describe(signature.Inputs)}");
        }

        if (signature.MaxBatchSize == 0)
        {
            return;
        }

        var batch = request.Inputs[0].Shape[0];
        if (batch < 1 || batch > signature.MaxBatchSize || request.Inputs.Exists(input => input.Shape[0] != batch))
        {
            throw ServingException.Invalid(
                $"the request has {batch} instances; the model accepts 1 to {signature.MaxBatchSize}, the same number for every input");
        }
    }
}
