using System.Text.Json;
using MaaS.Core.Tensors;

namespace MaaS.Core.Inference;

public static partial class InferRequestReader
{
    private static void ReadInputs(ref Utf8JsonReader reader, InferRequest request, ReadOnlyMemory<byte> binary, ref ParseState state)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            throw ServingException.Invalid("\"inputs\" must be an array of tensors");
        }

        state.SawInputs = true;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            ExpectObject(ref reader, "each entry of \"inputs\"");
            request.Inputs.Add(ReadInput(ref reader, request, binary, ref state));
        }
    }

    private static InferInput ReadInput(ref Utf8JsonReader reader, InferRequest request, ReadOnlyMemory<byte> binary, ref ParseState state)
    {
        string? name = null;
        TensorDataType? dataType = null;
        long[]? shape = null;
        long binarySize = -1;
        var hasData = false;
        Utf8JsonReader dataReader = default;
        long dataStart = 0;
        long dataEnd = 0;

        while (NextProperty(ref reader))
        {
            if (reader.ValueTextEquals("name"u8))
            {
                reader.Read();
                name = reader.TokenType == JsonTokenType.String ? ReadText(ref reader, "an input name") : throw ServingException.Invalid("input \"name\" must be a string");
            }
            else if (reader.ValueTextEquals("datatype"u8))
            {
                reader.Read();
                dataType = ReadDataType(ref reader);
            }
            else if (reader.ValueTextEquals("shape"u8))
            {
                reader.Read();
                shape = ReadShape(ref reader, name);
            }
            else if (reader.ValueTextEquals("data"u8))
            {
                // The datatype and shape may come after the data: keep a copy of the reader here and decode once
                // the whole input object has been read and validated.
                reader.Read();
                hasData = true;
                dataReader = reader;
                dataStart = reader.TokenStartIndex;
                reader.Skip();
                dataEnd = reader.BytesConsumed;
            }
            else if (reader.ValueTextEquals("parameters"u8))
            {
                reader.Read();
                binarySize = ReadInputParameters(ref reader, name);
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        if (name is null)
        {
            throw ServingException.Invalid("each entry of \"inputs\" needs a \"name\"");
        }

        var spec = ValidateInput(name, dataType, shape, request, ref state);
        var count = TensorShape.ElementCount(shape!);
        if (hasData == binarySize >= 0)
        {
            throw ServingException.Invalid(
                $"input '{name}' must carry exactly one of \"data\" or parameters.binary_data_size");
        }

#pragma warning disable CA2000 // the buffer's ownership moves to the InferInput, which the request disposes
        if (hasData)
        {
            return new InferInput(name, spec.DataType, shape!, DecodeJsonData(ref dataReader, spec, count, dataEnd - dataStart));
        }

        return new InferInput(name, spec.DataType, shape!, SliceBinaryData(binary, binarySize, spec, shape!, count, ref state));
#pragma warning restore CA2000
    }

    private static TensorDataType ReadDataType(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            throw ServingException.Invalid("input \"datatype\" must be a string such as \"FP32\"");
        }

        if (reader.ValueIsEscaped
            ? TensorDataTypes.TryParseProtocolName(ReadText(ref reader, "\"datatype\""), out var type)
            : TensorDataTypes.TryParseProtocolName(reader.ValueSpan, out type))
        {
            return type;
        }

        throw ServingException.Invalid(
            $"invalid datatype '{ReadText(ref reader, "\"datatype\"")}'; expected one of BOOL, UINT8, UINT16, UINT32, UINT64, INT8, INT16, INT32, INT64, FP16, FP32, FP64, BYTES, BF16");
    }

    private static long[] ReadShape(ref Utf8JsonReader reader, string? name)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            throw ServingException.Invalid($"input '{name}': \"shape\" must be an array of non-negative integers");
        }

        Span<long> dims = stackalloc long[16];
        var rank = 0;
        List<long>? more = null;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out var dim))
            {
                throw ServingException.Invalid($"input '{name}': \"shape\" must be an array of non-negative integers");
            }

            if (dim < 0)
            {
                throw ServingException.Invalid($"input '{name}': shape has a negative dimension ({dim}); dimensions are sizes, 0 or more");
            }

            if (rank < dims.Length)
            {
                dims[rank] = dim;
            }
            else
            {
                more ??= [];
                more.Add(dim);
            }

            rank++;
        }

        return more is null ? dims[..rank].ToArray() : [.. dims, .. more];
    }

    private static long ReadInputParameters(ref Utf8JsonReader reader, string? name)
    {
        ExpectObject(ref reader, $"input '{name}' \"parameters\"");
        long binarySize = -1;
        while (NextProperty(ref reader))
        {
            if (reader.ValueTextEquals("binary_data_size"u8))
            {
                reader.Read();
                binarySize = reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var size) && size >= 0
                    ? size
                    : throw ServingException.Invalid($"input '{name}': binary_data_size must be a non-negative integer");
            }
            else if (reader.ValueTextEquals("shared_memory_region"u8))
            {
                throw ServingException.Invalid($"input '{name}': shared memory inputs are not supported; send the data as binary or JSON");
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        return binarySize;
    }

    internal static TensorSpec ValidateInput(string name, TensorDataType? dataType, long[]? shape, InferRequest request, ref ParseState state)
    {
        var signature = state.Signature;
        if (!signature.TryGetInput(name, out var spec))
        {
            throw ServingException.Invalid($"unknown input '{name}'; the model expects inputs: {signature.Describe(signature.Inputs)}");
        }

        if (HasInput(request, name))
        {
            throw ServingException.Invalid($"input '{name}' appears more than once");
        }

        if (dataType is null || shape is null)
        {
            throw ServingException.Invalid($"input '{name}' needs a \"datatype\" and a \"shape\"");
        }

        if (dataType != spec.DataType)
        {
            throw ServingException.Invalid(
                $"input '{name}' has datatype {dataType.Value.ToProtocolName()}; the model expects {spec.DataType.ToProtocolName()}");
        }

        ValidateShape(spec, shape, ref state);
        return spec;
    }

    private static void ValidateShape(TensorSpec spec, long[] shape, ref ParseState state)
    {
        var signature = state.Signature;

        // The protocol shape of a batching model is [-1, dims...]: its leading -1 matches any batch size, so only the
        // rest is compared, against the spec's own dims (building [-1, dims...] would allocate for every input).
        var fits = signature.MaxBatchSize > 0
            ? shape.Length == spec.Dims.Length + 1 && TensorShape.Matches(shape.AsSpan(1), spec.Dims)
            : TensorShape.Matches(shape, spec.Dims);
        if (!fits)
        {
            throw ServingException.Invalid(
                $"input '{spec.Name}' has shape {TensorShape.Format(shape)}; the model expects {TensorShape.Format(signature.ProtocolShape(spec))} (-1 = any size)");
        }

        if (signature.MaxBatchSize > 0)
        {
            var batch = shape[0];
            if (batch < 1 || batch > signature.MaxBatchSize)
            {
                throw ServingException.Invalid(
                    $"input '{spec.Name}' has batch size {batch}; the model accepts 1 to {signature.MaxBatchSize}");
            }

            if (state.BatchSize >= 0 && state.BatchSize != batch)
            {
                throw ServingException.Invalid(
                    $"input '{spec.Name}' has batch size {batch}, but another input has {state.BatchSize}; all inputs must share the batch size");
            }

            state.BatchSize = batch;
        }

        if (TensorShape.ElementCount(shape) < 0)
        {
            throw ServingException.Invalid($"input '{spec.Name}': shape {TensorShape.Format(shape)} has too many elements");
        }
    }

    private static TensorBuffer DecodeJsonData(ref Utf8JsonReader reader, TensorSpec spec, long count, long dataLength)
    {
        // Elements take at least one byte each and are separated by commas, so data of n bytes holds at most
        // (n + 1) / 2 of them: a shape asking for more cannot match, and is refused before anything is allocated.
        if (count > (dataLength + 1) / 2)
        {
            throw ServingException.Invalid(
                $"input '{spec.Name}': its shape holds {count} elements, more than its {dataLength} bytes of JSON data can contain");
        }

        var capacity = spec.DataType == TensorDataType.Bytes ? dataLength + (4 * count) : count * spec.DataType.ElementSize();
        var buffer = TensorBuffer.Rent(checked((int)capacity));
        try
        {
            var written = JsonTensorReader.Read(ref reader, spec.DataType, count, buffer.Capacity, spec.Name);
            buffer.SetLength(written);
            return buffer;
        }
        catch
        {
            buffer.Dispose();
            throw;
        }
    }

    internal static TensorBuffer SliceBinaryData(
        ReadOnlyMemory<byte> binary, long size, TensorSpec spec, long[] shape, long count, ref ParseState state)
    {
        var remaining = binary.Length - state.BinaryOffset;
        if (size > remaining)
        {
            throw ServingException.Invalid(
                $"unexpected size for input '{spec.Name}', expecting {size} additional bytes but only {remaining} remain in the request body");
        }

        var bytes = binary.Slice(state.BinaryOffset, (int)size);
        state.BinaryOffset += (int)size;
        if (spec.DataType == TensorDataType.Bytes)
        {
            var elements = BytesElements.Count(bytes.Span);
            if (elements != count)
            {
                throw ServingException.Invalid(elements < 0
                    ? $"input '{spec.Name}': BYTES data is not a sequence of 4-byte length-prefixed elements"
                    : $"input '{spec.Name}': BYTES data has {elements} elements but shape {TensorShape.Format(shape)} needs {count}");
            }
        }
        else
        {
            // In 128 bits: a huge shape's byte count must not wrap around to the (small) size that was sent.
            var needed = (Int128)count * spec.DataType.ElementSize();
            if (needed != size)
            {
                throw ServingException.Invalid(
                    $"input byte size mismatch for input '{spec.Name}': shape {TensorShape.Format(shape)} of {spec.DataType.ToProtocolName()} needs {needed} bytes, binary_data_size is {size}");
            }
        }

        // In place from the request body when aligned for the element type (the body outlives the request), else one copy.
        return TensorBuffer.BorrowOrCopy(bytes, spec.DataType.ElementSize());
    }
}
