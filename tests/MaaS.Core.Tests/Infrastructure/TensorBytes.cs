using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;

namespace MaaS.Core.Tests.Infrastructure;

/// <summary>Builds the little-endian byte forms tensors take on the wire, written independently of the code under test.</summary>
internal static class TensorBytes
{
    public static byte[] Of<T>(params T[] values)
        where T : struct => MemoryMarshal.AsBytes(values.AsSpan()).ToArray();

    /// <summary>BYTES elements: a 4-byte little-endian length, then the UTF-8 bytes, back to back.</summary>
    public static byte[] Strings(params string[] values)
    {
        var result = new List<byte>();
        foreach (var value in values)
        {
            var utf8 = Encoding.UTF8.GetBytes(value);
            var prefix = new byte[4];
            BinaryPrimitives.WriteUInt32LittleEndian(prefix, (uint)utf8.Length);
            result.AddRange(prefix);
            result.AddRange(utf8);
        }

        return [.. result];
    }

    /// <summary>Splits serialized BYTES elements back into strings.</summary>
    public static List<string> ReadStrings(ReadOnlySpan<byte> serialized)
    {
        var result = new List<string>();
        while (!serialized.IsEmpty)
        {
            var length = (int)BinaryPrimitives.ReadUInt32LittleEndian(serialized);
            result.Add(Encoding.UTF8.GetString(serialized.Slice(4, length)));
            serialized = serialized[(4 + length)..];
        }

        return result;
    }
}
