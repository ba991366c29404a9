using System.Text.Json;
using MaaS.Core.Tensors;

namespace MaaS.Core.Inference;

/// <summary>
/// Parses an Open Inference Protocol V2 request (JSON header plus, with the binary tensor data extension, the bytes
/// that follow it) straight into pooled tensor buffers, validating each input against the model before its data is
/// decoded, so a wrong name, datatype or shape costs no allocation.
/// </summary>
public static partial class InferRequestReader
{
    /// <summary>Triton's JSON nesting limit.</summary>
    public const int MaxDepth = 100;

    /// <param name="json">The JSON header (the whole body when the request has no binary part).</param>
    /// <param name="binary">The bytes after the header: binary inputs back to back, in the order of the inputs that declare them.</param>
    /// <param name="signature">The model version the request is for.</param>
    /// <param name="forExplanation">
    /// Read the request for an explanation: accept structured request parameter values (objects, arrays, null), which
    /// plain inference refuses, and keep a copy of the whole <c>"parameters"</c> object in
    /// <see cref="InferRequest.ParametersJson"/>; and since an explanation answers with attributions, not the model's
    /// outputs, an FP16/BF16 output is not refused for having no JSON form.
    /// </param>
    public static InferRequest Read(ReadOnlySpan<byte> json, ReadOnlyMemory<byte> binary, ModelSignature signature, bool forExplanation = false)
    {
        var request = new InferRequest();
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = MaxDepth });
            var state = new ParseState(signature) { OutputsUnused = forExplanation };
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                throw ServingException.Invalid("request body must be a JSON object with an \"inputs\" array");
            }

            while (NextProperty(ref reader))
            {
                if (reader.ValueTextEquals("id"u8))
                {
                    reader.Read();
                    request.Id = reader.TokenType == JsonTokenType.String
                        ? NullIfEmpty(ReadText(ref reader, "\"id\""))
                        : throw ServingException.Invalid("\"id\" must be a string");
                }
                else if (reader.ValueTextEquals("parameters"u8))
                {
                    reader.Read();
                    var start = (int)reader.TokenStartIndex;
                    ReadRequestParameters(ref reader, request, ref state, forExplanation);
                    if (forExplanation)
                    {
                        request.ParametersJson = json[start..(int)reader.BytesConsumed].ToArray();
                    }
                }
                else if (reader.ValueTextEquals("inputs"u8))
                {
                    reader.Read();
                    ReadInputs(ref reader, request, binary, ref state);
                }
                else if (reader.ValueTextEquals("outputs"u8))
                {
                    reader.Read();
                    ReadOutputs(ref reader, request, ref state);
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }

            // A second top-level value (or garbage after the object) makes Read throw.
            if (reader.Read())
            {
                throw ServingException.Invalid("unexpected content after the request's JSON object");
            }

            Complete(request, binary, ref state);
            return request;
        }
        catch (JsonException ex)
        {
            request.Dispose();
            throw new ServingException(FailureKind.InvalidInput, $"malformed JSON in request: {ex.Message}", ex);
        }
        catch (ServingException)
        {
            request.Dispose();
            throw;
        }
    }

    internal static void Complete(InferRequest request, ReadOnlyMemory<byte> binary, ref ParseState state)
    {
        if (!state.SawInputs)
        {
            throw ServingException.Invalid("request has no \"inputs\" array");
        }

        if (state.BinaryOffset != binary.Length)
        {
            throw ServingException.Invalid(
                $"unexpected additional input data: {binary.Length - state.BinaryOffset} bytes follow the last binary input");
        }

        var signature = state.Signature;
        foreach (var spec in signature.Inputs)
        {
            if (!spec.Optional && !HasInput(request, spec.Name))
            {
                throw ServingException.Invalid(
                    $"missing input '{spec.Name}'; the model expects inputs: {signature.Describe(signature.Inputs)}");
            }
        }

        // No "outputs", or an empty array: every output, in the form binary_data_output asks for (as Triton does).
        if (request.Outputs.Count == 0)
        {
            foreach (var spec in signature.Outputs)
            {
                if (!state.BinaryDataOutput && !state.OutputsUnused && spec.DataType is TensorDataType.Fp16 or TensorDataType.Bf16)
                {
                    throw ServingException.Invalid(
                        $"output '{spec.Name}' is {spec.DataType.ToProtocolName()}, which has no JSON form; request it with \"binary_data\": true, or set the request parameter \"binary_data_output\": true");
                }

                request.Outputs.Add(new RequestedOutput(spec.Name, state.BinaryDataOutput));
            }
        }
    }

    private static bool NextProperty(ref Utf8JsonReader reader)
    {
        reader.Read();
        return reader.TokenType == JsonTokenType.PropertyName;
    }

    private static void ReadRequestParameters(ref Utf8JsonReader reader, InferRequest request, ref ParseState state, bool structured)
    {
        ExpectObject(ref reader, "\"parameters\"");
        while (NextProperty(ref reader))
        {
            var key = ReadText(ref reader, "a parameter name");
            reader.Read();
            if (key.StartsWith("triton_", StringComparison.Ordinal))
            {
                throw ServingException.Invalid($"parameter '{key}' is reserved and cannot be set by a request");
            }

            if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray or JsonTokenType.Null)
            {
                if (structured)
                {
                    reader.Skip();
                    continue;
                }

                throw ServingException.Invalid($"parameter '{key}' has invalid type; expected a string, number or boolean");
            }

            switch (key)
            {
                case "binary_data_output":
                    state.BinaryDataOutput = ReadBool(ref reader, "parameter 'binary_data_output'");
                    break;
                case "priority":
                    // Schedule policy extension: 1 is the highest level, 0 the model's default.
                    request.Priority = ReadUnsigned(ref reader, "parameter 'priority' (1 = highest level, 0 = the model's default)");
                    break;
                case "timeout":
                    request.TimeoutMicroseconds = ReadUnsigned(ref reader, "parameter 'timeout' (microseconds in the batch queue)");
                    break;
            }
        }
    }

    private static void ReadOutputs(ref Utf8JsonReader reader, InferRequest request, ref ParseState state)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            throw ServingException.Invalid("\"outputs\" must be an array of {\"name\": ...} objects");
        }

        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            ExpectObject(ref reader, "each entry of \"outputs\"");
            string? name = null;
            var binaryData = false;
            var classCount = 0;
            while (NextProperty(ref reader))
            {
                if (reader.ValueTextEquals("name"u8))
                {
                    reader.Read();
                    name = reader.TokenType == JsonTokenType.String ? ReadText(ref reader, "an output name") : throw ServingException.Invalid("output \"name\" must be a string");
                }
                else if (reader.ValueTextEquals("parameters"u8))
                {
                    reader.Read();
                    ReadOutputParameters(ref reader, ref binaryData, ref classCount);
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }

            request.Outputs.Add(ValidateOutput(name, binaryData, classCount, request, state.Signature));
        }
    }

    private static void ReadOutputParameters(ref Utf8JsonReader reader, ref bool binaryData, ref int classCount)
    {
        ExpectObject(ref reader, "output \"parameters\"");
        while (NextProperty(ref reader))
        {
            if (reader.ValueTextEquals("binary_data"u8))
            {
                reader.Read();
                binaryData = ReadBool(ref reader, "output parameter 'binary_data'");
            }
            else if (reader.ValueTextEquals("classification"u8))
            {
                reader.Read();
                classCount = reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var count) && count >= 0
                    ? count
                    : throw ServingException.Invalid("output parameter 'classification' must be a non-negative integer (the number of classes to return)");
            }
            else if (reader.ValueTextEquals("shared_memory_region"u8))
            {
                throw ServingException.Invalid("shared memory outputs are not supported; use binary_data or JSON");
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
    }

    internal static RequestedOutput ValidateOutput(string? name, bool binaryData, int classCount, InferRequest request, ModelSignature signature)
    {
        if (name is null)
        {
            throw ServingException.Invalid("each entry of \"outputs\" needs a \"name\"");
        }

        if (!signature.TryGetOutput(name, out var spec))
        {
            throw ServingException.Invalid(
                $"unknown output '{name}'; the model's outputs are: {signature.Describe(signature.Outputs)}");
        }

        if (HasOutput(request, name))
        {
            throw ServingException.Invalid($"output '{name}' is requested more than once");
        }

        if (classCount > 0 && !Classifier.Supports(spec.DataType))
        {
            throw ServingException.Invalid(
                $"output '{name}' is {spec.DataType.ToProtocolName()}; classification needs an integer, FP32 or FP64 output");
        }

        if (!binaryData && classCount == 0 && spec.DataType is TensorDataType.Fp16 or TensorDataType.Bf16)
        {
            throw ServingException.Invalid(
                $"output '{name}' is {spec.DataType.ToProtocolName()}, which has no JSON form; request it with \"binary_data\": true");
        }

        return new RequestedOutput(name, binaryData, classCount);
    }

    // Loops rather than List.Exists with a lambda: a predicate capturing the name allocates a closure on every call
    // (for a captured parameter, on every call of the enclosing method), once per input and output of every request.
    private static bool HasInput(InferRequest request, string name)
    {
        foreach (var input in request.Inputs)
        {
            if (input.Name == name)
            {
                return true;
            }
        }

        return false;
    }

    private static bool HasOutput(InferRequest request, string name)
    {
        foreach (var output in request.Outputs)
        {
            if (output.Name == name)
            {
                return true;
            }
        }

        return false;
    }

    private static long ReadUnsigned(ref Utf8JsonReader reader, string what) =>
        reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var value) && value >= 0
            ? value
            : throw ServingException.Invalid($"{what} must be a non-negative integer");

    private static bool ReadBool(ref Utf8JsonReader reader, string what) => reader.TokenType switch
    {
        JsonTokenType.True => true,
        JsonTokenType.False => false,
        _ => throw ServingException.Invalid($"{what} must be true or false"),
    };

    private static void ExpectObject(ref Utf8JsonReader reader, string what)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw ServingException.Invalid($"{what} must be a JSON object");
        }
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    /// <summary>The current string token, or a client error when its bytes or escapes are not valid UTF-8 / UTF-16.</summary>
    private static string ReadText(ref Utf8JsonReader reader, string what)
    {
        try
        {
            return reader.GetString()!;
        }
        catch (InvalidOperationException ex)
        {
            throw new ServingException(FailureKind.InvalidInput, $"{what} is not valid UTF-8 text", ex);
        }
    }

    /// <summary>What the parse has learnt so far; a struct so that parsing allocates nothing for it.</summary>
    internal struct ParseState(ModelSignature signature)
    {
        public readonly ModelSignature Signature = signature;
        public int BinaryOffset;
        public bool BinaryDataOutput;

        /// <summary>The caller answers with something else than the outputs (an explanation): none is refused for its form.</summary>
        public bool OutputsUnused;
        public bool SawInputs;
        public long BatchSize = -1;
    }
}
