using MaaS.Core.Tensors;

namespace MaaS.Core.Inference;

/// <summary>One decoded request tensor, validated against its spec. Owns its pooled buffer.</summary>
public sealed class InferInput(string name, TensorDataType dataType, long[] shape, TensorBuffer data) : IDisposable
{
    public string Name { get; } = name;

    public TensorDataType DataType { get; } = dataType;

    public long[] Shape { get; } = shape;

    /// <summary>Row-major little-endian elements; BYTES in length-prefixed form.</summary>
    public TensorBuffer Data { get; } = data;

    public void Dispose() => Data.Dispose();
}
