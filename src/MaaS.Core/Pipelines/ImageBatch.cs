using MaaS.Core.Tensors;

namespace MaaS.Core.Pipelines;

/// <summary>
/// The images of one request, decoded for one inner model's input: <see cref="Count"/> images of
/// <see cref="ImageGeometry.ImageFloats"/> FP32 values each, back to back. Disposing returns the buffer.
/// </summary>
public sealed class ImageBatch : IDisposable
{
    internal ImageBatch(IReadOnlyList<ReadOnlyMemory<byte>> images, ImageGeometry geometry, TensorBuffer floats)
    {
        Images = images;
        Geometry = geometry;
        Floats = floats;
    }

    /// <summary>The encoded images (in the request's buffers), to decode again should the inner model's input change.</summary>
    internal IReadOnlyList<ReadOnlyMemory<byte>> Images { get; }

    internal ImageGeometry Geometry { get; }

    internal TensorBuffer Floats { get; }

    public int Count => Images.Count;

    public void Dispose() => Floats.Dispose();
}
