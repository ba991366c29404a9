using Google.Protobuf.Collections;
using Inference;
using MaaS.Core;
using MaaS.Core.Inference;

namespace MaaS.Server.Endpoints.Grpc;

/// <summary>
/// Decodes a <see cref="ModelInferRequest"/> into the request the model runs, with the HTTP reader's checks
/// (<see cref="TensorRequestBuilder"/>). Triton's rules: the data comes either as raw_input_contents for every input
/// or as typed contents for every input, never mixed; raw data is little-endian, BYTES elements 4-byte length-prefixed.
/// </summary>
internal static class GrpcTensorReader
{
    public static InferRequest Read(ModelInferRequest message, ModelSignature signature)
    {
        using var builder = new TensorRequestBuilder(signature);
        var request = builder.Request;
        request.Id = message.Id.Length > 0 ? message.Id : null;
        ReadParameters(message.Parameters, request);
        var raw = message.RawInputContents;
        if (raw.Count > 0 && raw.Count != message.Inputs.Count)
        {
            throw ServingException.Invalid(
                $"raw_input_contents has {raw.Count} entries for {message.Inputs.Count} inputs; send raw contents for every input or for none");
        }

        for (var i = 0; i < message.Inputs.Count; i++)
        {
            var input = message.Inputs[i];
            var shape = input.Shape.ToArray();
            var spec = builder.ValidateInput(input.Name, input.Datatype, shape);
            if (input.Parameters.ContainsKey("shared_memory_region"))
            {
                throw ServingException.Invalid($"input '{input.Name}': shared memory inputs are not supported; send the data in the request");
            }

            if (raw.Count > 0)
            {
                if (input.Contents is not null)
                {
                    throw ServingException.Invalid(
                        $"input '{input.Name}' has contents while the request uses raw_input_contents; use one or the other for all inputs");
                }

                builder.AddRawInput(spec, shape, raw[i].Memory);
            }
            else
            {
#pragma warning disable CA2000 // the buffer's ownership moves to the request
                builder.AddInput(spec, shape, GrpcTensorContents.Decode(input.Name, spec.DataType, TensorRequestBuilder.ElementCount(shape), input.Contents));
#pragma warning restore CA2000
            }
        }

        foreach (var output in message.Outputs)
        {
            builder.AddOutput(output.Name, ClassCount(output));
        }

        return builder.Build();
    }

    private static void ReadParameters(MapField<string, InferParameter> parameters, InferRequest request)
    {
        foreach (var (key, value) in parameters)
        {
            if (key.StartsWith("triton_", StringComparison.Ordinal))
            {
                throw ServingException.Invalid($"parameter '{key}' is reserved and cannot be set by a request");
            }

            switch (key)
            {
                case "priority":
                    request.Priority = Unsigned(value, "parameter 'priority' (1 = highest level, 0 = the model's default)");
                    break;
                case "timeout":
                    request.TimeoutMicroseconds = Unsigned(value, "parameter 'timeout' (microseconds in the batch queue)");
                    break;
            }
        }
    }

    private static int ClassCount(ModelInferRequest.Types.InferRequestedOutputTensor output)
    {
        if (output.Parameters.ContainsKey("shared_memory_region"))
        {
            throw ServingException.Invalid("shared memory outputs are not supported; outputs come back in raw_output_contents");
        }

        if (!output.Parameters.TryGetValue("classification", out var classification))
        {
            return 0;
        }

        var count = Unsigned(classification, "output parameter 'classification' (the number of classes to return)");
        return count <= int.MaxValue
            ? (int)count
            : throw ServingException.Invalid("output parameter 'classification' must be a non-negative integer (the number of classes to return)");
    }

    private static long Unsigned(InferParameter value, string what) => value.ParameterChoiceCase switch
    {
        InferParameter.ParameterChoiceOneofCase.Int64Param when value.Int64Param >= 0 => value.Int64Param,
        InferParameter.ParameterChoiceOneofCase.Uint64Param when value.Uint64Param <= long.MaxValue => (long)value.Uint64Param,
        _ => throw ServingException.Invalid($"{what} must be a non-negative integer"),
    };
}
