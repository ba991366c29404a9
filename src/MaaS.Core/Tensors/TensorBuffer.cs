using System.Buffers;

namespace MaaS.Core.Tensors;

/// <summary>
/// A pooled byte buffer holding one tensor's elements, row-major and little-endian (BYTES: each element as a 4-byte
/// length prefix and its bytes, the wire form of the binary extension). Returned to the pool on dispose.
/// </summary>
public sealed class TensorBuffer : IDisposable
{
    private byte[]? _array;

    private TensorBuffer(byte[] array, int length)
    {
        _array = array;
        Length = length;
    }

    /// <summary>Bytes in use.</summary>
    public int Length { get; private set; }

    public Span<byte> Span => Array.AsSpan(0, Length);

    public Memory<byte> Memory => Array.AsMemory(0, Length);

    /// <summary>The whole rented capacity, for writers that fill the buffer before <see cref="SetLength"/>.</summary>
    internal Span<byte> Capacity => Array.AsSpan();

    private byte[] Array => _array ?? throw new ObjectDisposedException(nameof(TensorBuffer));

    /// <summary>Rents at least one byte, so that an empty tensor still has an address to hand to ONNX Runtime.</summary>
    public static TensorBuffer Rent(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        return new TensorBuffer(ArrayPool<byte>.Shared.Rent(Math.Max(length, 1)), length);
    }

    public static TensorBuffer CopyOf(ReadOnlySpan<byte> source)
    {
        var buffer = Rent(source.Length);
        source.CopyTo(buffer.Span);
        return buffer;
    }

    internal void SetLength(int length)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, Array.Length);
        Length = length;
    }

    public void Dispose()
    {
        var array = Interlocked.Exchange(ref _array, null);
        if (array is not null)
        {
            ArrayPool<byte>.Shared.Return(array);
        }
    }
}
