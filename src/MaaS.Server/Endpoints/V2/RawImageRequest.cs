using System.Buffers.Binary;
using MaaS.Core.Inference;
using MaaS.Core.Tensors;

namespace MaaS.Server.Endpoints.V2;

/// <summary>
/// A raw image body (Content-Type image/png, image/jpeg, image/webp or image/bmp, docs/pipelines.md): the single element of an image pipeline
/// model's BYTES input; its outputs come back as JSON.
/// </summary>
internal static class RawImageRequest
{
    public static InferRequest Read(ReadOnlySpan<byte> body, ModelSignature signature)
    {
        var request = new InferRequest();
#pragma warning disable CA2000 // the buffer belongs to the input, the input to the request, which the caller disposes
        var element = TensorBuffer.Rent(4 + body.Length);
#pragma warning restore CA2000
        BinaryPrimitives.WriteUInt32LittleEndian(element.Span, (uint)body.Length);
        body.CopyTo(element.Span[4..]);
        request.Inputs.Add(new InferInput(signature.Inputs[0].Name, TensorDataType.Bytes, [1], element));
        foreach (var output in signature.Outputs)
        {
            request.Outputs.Add(new RequestedOutput(output.Name, Binary: false));
        }

        return request;
    }
}
