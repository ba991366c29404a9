using MaaS.Core.Inference;

namespace MaaS.Server.Endpoints.V2;

/// <summary>What one protocol brings to <see cref="InferencePipeline"/>: how its request decodes and how its answer is written (HTTP/JSON or gRPC).</summary>
internal interface IInferExchange
{
    /// <summary>Decodes and validates the request for <paramref name="signature"/>; may be called twice when the version changes under it.</summary>
    InferRequest Decode(ModelSignature signature);

    /// <summary>The request is a raw image body (Content-Type image/png, image/jpeg, image/webp or image/bmp): only an image pipeline model takes one.</summary>
    bool IsRawImage => false;

    /// <summary>Writes (or builds) the answer while the outputs are alive; <paramref name="modelName"/> is the model the client addressed.</summary>
    ValueTask WriteAsync(InferResult result, InferRequest request, string modelName, long version, CancellationToken cancellationToken);
}
