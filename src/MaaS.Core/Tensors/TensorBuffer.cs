using System.Buffers;

namespace MaaS.Core.Tensors;

/// <summary>
/// One tensor's elements, row-major and little-endian (BYTES: each element as a 4-byte length prefix and its bytes,
/// the wire form of the binary extension): a pooled buffer returned on dispose, or bytes borrowed in place from a
/// request body that outlives the tensor.
/// </summary>
public sealed class TensorBuffer : IDisposable
{
    private byte[]? _array;
    private readonly int _offset;
    private readonly bool _pooled;

    private TensorBuffer(byte[] array, int offset, int length, bool pooled)
    {
        _array = array;
        _offset = offset;
        _pooled = pooled;
        Length = length;
    }

    /// <summary>Bytes in use.</summary>
    public int Length { get; private set; }

    public Span<byte> Span => Array.AsSpan(_offset, Length);

    public Memory<byte> Memory => Array.AsMemory(_offset, Length);

    /// <summary>The whole rented capacity, for writers that fill the buffer before <see cref="SetLength"/>.</summary>
    internal Span<byte> Capacity => _pooled ? Array.AsSpan() : throw new InvalidOperationException("a borrowed buffer cannot grow");

    private byte[] Array => _array ?? throw new ObjectDisposedException(nameof(TensorBuffer));

    /// <summary>Rents at least one byte, so that an empty tensor still has an address to hand to ONNX Runtime.</summary>
    public static TensorBuffer Rent(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        return new TensorBuffer(ArrayPool<byte>.Shared.Rent(Math.Max(length, 1)), 0, length, pooled: true);
    }

    /// <summary>
    /// The bytes in place when they are aligned for <paramref name="elementSize"/>-byte elements (the owner of the
    /// memory must outlive the tensor), else a pooled copy: binary tensors are copied at most once.
    /// </summary>
    public static TensorBuffer BorrowOrCopy(ReadOnlyMemory<byte> source, int elementSize)
    {
        if (source.Length > 0
            && System.Runtime.InteropServices.MemoryMarshal.TryGetArray(source, out var segment)
            && segment.Offset % Math.Max(elementSize, 1) == 0)
        {
            return new TensorBuffer(segment.Array!, segment.Offset, segment.Count, pooled: false);
        }

        return CopyOf(source.Span);
    }

    public static TensorBuffer CopyOf(ReadOnlySpan<byte> source)
    {
        var buffer = Rent(source.Length);
        source.CopyTo(buffer.Span);
        return buffer;
    }

    internal void SetLength(int length)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, Array.Length - _offset);
        Length = length;
    }

    public void Dispose()
    {
        var array = Interlocked.Exchange(ref _array, null);
        if (array is not null && _pooled)
        {
            ArrayPool<byte>.Shared.Return(array);
        }
    }
}
