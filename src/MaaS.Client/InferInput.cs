using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;

namespace MaaS.Client;

/// <summary>
/// An input tensor: name, datatype, full shape (batch dimension included) and its elements as the binary tensor
/// extension lays them out (little-endian; BOOL one byte; BYTES a 4-byte length before each element).
/// </summary>
public sealed class InferInput
{
    private InferInput(string name, string datatype, long[] shape, ReadOnlyMemory<byte> data, long elementCount)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        var expected = ElementCount(shape);
        if (expected != elementCount)
        {
            throw new ArgumentException($"input '{name}' has {elementCount} elements; shape [{string.Join(", ", shape)}] needs {expected}");
        }

        Name = name;
        Datatype = datatype;
        Shape = shape;
        Data = data;
    }

    public string Name { get; }

    public string Datatype { get; }

    public IReadOnlyList<long> Shape { get; }

    /// <summary>The elements in the binary tensor extension's layout.</summary>
    public ReadOnlyMemory<byte> Data { get; }

    /// <summary>A tensor of a numeric or BOOL type; the datatype follows from <typeparamref name="T"/> (Half is FP16).</summary>
    public static InferInput Create<T>(string name, ReadOnlyMemory<T> data, params long[] shape)
        where T : unmanaged
    {
        var datatype = Datatypes.Of<T>();
        var bytes = MemoryMarshal.AsBytes(data.Span).ToArray();
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("tensors are little-endian");
        }

        return new InferInput(name, datatype, shape, bytes, data.Length);
    }

    /// <summary>A BYTES tensor of UTF-8 strings.</summary>
    public static InferInput FromStrings(string name, IReadOnlyList<string> values, params long[] shape) =>
        FromBytes(name, values.Select(v => Encoding.UTF8.GetBytes(v)).ToList(), shape);

    /// <summary>A BYTES tensor of byte strings.</summary>
    public static InferInput FromBytes(string name, IReadOnlyList<byte[]> values, params long[] shape)
    {
        var buffer = new byte[values.Sum(v => 4L + v.Length)];
        var offset = 0;
        foreach (var value in values)
        {
            BinaryPrimitives.WriteInt32LittleEndian(buffer.AsSpan(offset), value.Length);
            value.CopyTo(buffer, offset + 4);
            offset += 4 + value.Length;
        }

        return new InferInput(name, Datatypes.Bytes, shape, buffer, values.Count);
    }

    /// <summary>A tensor from bytes already in the binary layout (e.g. BF16, or a .npy file's payload).</summary>
    public static InferInput FromRaw(string name, string datatype, ReadOnlyMemory<byte> data, params long[] shape)
    {
        var size = Datatypes.ElementSize(datatype);
        if (size < 0)
        {
            throw new ArgumentException($"'{datatype}' is no protocol datatype", nameof(datatype));
        }

        long count = size == 0 ? TensorLayout.CountByteElements(data.Span, name) : data.Length % size == 0 ? data.Length / size
            : throw new ArgumentException($"input '{name}': {data.Length} bytes is not a whole number of {datatype} elements");
        return new InferInput(name, datatype, shape, data, count);
    }

    internal static long ElementCount(IReadOnlyList<long> shape)
    {
        long count = 1;
        foreach (var dim in shape)
        {
            if (dim < 0)
            {
                throw new ArgumentException("a tensor's shape has no negative dimension");
            }

            count = checked(count * dim);
        }

        return count;
    }
}
