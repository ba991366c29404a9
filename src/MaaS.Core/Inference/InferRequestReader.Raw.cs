using MaaS.Core.Tensors;

namespace MaaS.Core.Inference;

public static partial class InferRequestReader
{
    /// <summary>
    /// A raw binary request (<c>Inference-Header-Content-Length: 0</c>): the whole body is the data of the model's
    /// only input, batch 1 for a batching model, at most one variable dim (sized from the body); every output comes
    /// back binary.
    /// </summary>
    public static InferRequest ReadRaw(ReadOnlySpan<byte> body, ModelSignature signature)
    {
        if (signature.Inputs.Count != 1)
        {
            throw ServingException.Invalid(
                $"a raw binary request (no JSON header) needs a model with exactly one input; this one has {signature.Inputs.Count}: {signature.Describe(signature.Inputs)}");
        }

        var spec = signature.Inputs[0];
        if (spec.DataType == TensorDataType.Bytes)
        {
            throw ServingException.Invalid($"input '{spec.Name}' is BYTES: send a JSON header with the raw bytes");
        }

        var shape = RawShape(spec, signature, body.Length);
        var request = new InferRequest();
#pragma warning disable CA2000 // the buffer belongs to the input, the input to the request, which the caller disposes
        request.Inputs.Add(new InferInput(spec.Name, spec.DataType, shape, TensorBuffer.CopyOf(body)));
#pragma warning restore CA2000
        foreach (var output in signature.Outputs)
        {
            request.Outputs.Add(new RequestedOutput(output.Name, Binary: true));
        }

        return request;
    }

    private static long[] RawShape(TensorSpec spec, ModelSignature signature, int bodyLength)
    {
        var shape = signature.MaxBatchSize > 0 ? [1, .. spec.Dims] : (long[])spec.Dims.Clone();
        // One pass, no FindAll (it builds an array of the matches only to count them).
        var variable = 0;
        var index = -1;
        long fixedBytes = spec.DataType.ElementSize();
        for (var i = 0; i < shape.Length; i++)
        {
            if (shape[i] < 0)
            {
                variable++;
                index = index < 0 ? i : index;
            }

            fixedBytes *= Math.Max(shape[i], 1);
        }

        var expected = signature.ProtocolShape(spec);
        if (variable > 1)
        {
            throw ServingException.Invalid(
                $"a raw binary request needs at most one variable dimension; input '{spec.Name}' has shape {TensorShape.Format(expected)}");
        }

        if (fixedBytes == 0 || bodyLength % fixedBytes != 0 || (variable == 0 && bodyLength != fixedBytes))
        {
            throw ServingException.Invalid(
                $"a raw binary body of {bodyLength} bytes does not fit input '{spec.Name}' ({spec.DataType.ToProtocolName()} {TensorShape.Format(expected)})");
        }

        if (index >= 0)
        {
            shape[index] = bodyLength / fixedBytes;
        }

        return shape;
    }
}
