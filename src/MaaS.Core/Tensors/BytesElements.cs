using System.Buffers.Binary;

namespace MaaS.Core.Tensors;

/// <summary>BYTES tensors in their serialized form: each element is a little-endian uint32 length followed by that many bytes.</summary>
internal static class BytesElements
{
    /// <summary>Counts the elements of a serialized BYTES tensor; -1 when a length prefix runs past the end.</summary>
    public static long Count(ReadOnlySpan<byte> serialized)
    {
        long count = 0;
        while (!serialized.IsEmpty)
        {
            if (serialized.Length < 4)
            {
                return -1;
            }

            var length = BinaryPrimitives.ReadUInt32LittleEndian(serialized);
            if (length > (uint)(serialized.Length - 4))
            {
                return -1;
            }

            serialized = serialized[(4 + (int)length)..];
            count++;
        }

        return count;
    }

    /// <summary>Reads the element at the start of <paramref name="serialized"/> and advances past it. The input must be valid.</summary>
    public static ReadOnlySpan<byte> ReadNext(scoped ref ReadOnlySpan<byte> serialized)
    {
        var length = (int)BinaryPrimitives.ReadUInt32LittleEndian(serialized);
        var element = serialized.Slice(4, length);
        serialized = serialized[(4 + length)..];
        return element;
    }

    /// <summary>Writes one element at <paramref name="destination"/>; returns the bytes written.</summary>
    public static int Write(Span<byte> destination, ReadOnlySpan<byte> element)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(destination, (uint)element.Length);
        element.CopyTo(destination[4..]);
        return 4 + element.Length;
    }
}
