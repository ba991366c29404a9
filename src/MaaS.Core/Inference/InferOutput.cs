using MaaS.Core.Tensors;
using Microsoft.ML.OnnxRuntime;

namespace MaaS.Core.Inference;

/// <summary>
/// One output of a run, ready to encode: either ONNX Runtime's own tensor (read in place, no copy) or, for a
/// classification, the serialized BYTES result. Owned and disposed by its <see cref="InferResult"/>.
/// </summary>
public sealed class InferOutput
{
    internal InferOutput(string name, TensorDataType dataType, long[] shape, bool binary, OrtValue? value, TensorBuffer? serialized, long elementOffset = 0)
    {
        ElementOffset = elementOffset;
        Name = name;
        DataType = dataType;
        Shape = shape;
        Binary = binary;
        Value = value;
        Serialized = serialized;
    }

    public string Name { get; }

    public TensorDataType DataType { get; }

    public long[] Shape { get; }

    /// <summary>Sent after the JSON header (binary tensor data extension) rather than as JSON <c>data</c>.</summary>
    public bool Binary { get; }

    internal OrtValue? Value { get; }

    internal TensorBuffer? Serialized { get; }

    /// <summary>Where this request's rows start in <see cref="Value"/>, in elements: a batched run's outputs are shared by its requests.</summary>
    internal long ElementOffset { get; }

    /// <summary>Element count of the tensor.</summary>
    public long ElementCount => TensorShape.ElementCount(Shape);

    /// <summary>The raw little-endian elements of a fixed-size tensor; valid while the result is not disposed.</summary>
    public ReadOnlySpan<byte> FixedData =>
        Value is { } value
            ? value.GetTensorDataAsSpan<byte>().Slice((int)(ElementOffset * DataType.ElementSize()), (int)(ElementCount * DataType.ElementSize()))
            : Serialized is { } computed && DataType != TensorDataType.Bytes
                ? computed.Span
                : throw new InvalidOperationException($"output '{Name}' is BYTES");

    /// <summary>Size of the binary form: raw bytes, or for BYTES the length-prefixed elements.</summary>
    public long BinarySize
    {
        get
        {
            if (Serialized is not null)
            {
                return Serialized.Length;
            }

            if (DataType != TensorDataType.Bytes)
            {
                return ElementCount * DataType.ElementSize();
            }

            long size = 0;
            for (var i = 0; i < ElementCount; i++)
            {
                size += 4 + Value!.GetStringElementAsSpan((int)(ElementOffset + i)).Length;
            }

            return size;
        }
    }

    /// <summary>Element <paramref name="index"/> of a BYTES tensor, as bytes.</summary>
    public ReadOnlySpan<byte> GetBytesElement(int index, ref int serializedOffset)
    {
        if (Serialized is not null)
        {
            var rest = (ReadOnlySpan<byte>)Serialized.Span[serializedOffset..];
            var before = rest.Length;
            var element = BytesElements.ReadNext(ref rest);
            serializedOffset += before - rest.Length;
            return element;
        }

        return Value!.GetStringElementAsSpan((int)(ElementOffset + index));
    }
}
