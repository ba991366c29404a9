using System.Text;

namespace MaaS.Core.Repository;

/// <summary>
/// Just enough of the protobuf wire format to walk a message from a seekable stream: field tags, varints, and
/// length-delimited fields, skipped by seeking. Every length is checked against its enclosing message.
/// </summary>
internal sealed class ProtobufReader(Stream stream)
{
    public const int Varint = 0;
    public const int Fixed64 = 1;
    public const int LengthDelimited = 2;
    public const int Fixed32 = 5;

    private const int MaxStringBytes = 64 * 1024;

    /// <summary>Reads the next field's tag, or returns false at <paramref name="end"/>.</summary>
    public bool TryReadField(long end, out int field, out int wireType)
    {
        if (stream.Position >= end)
        {
            if (stream.Position > end)
            {
                throw new InvalidDataException("a field runs past the end of its message");
            }

            field = 0;
            wireType = 0;
            return false;
        }

        var tag = ReadVarint();
        field = (int)(tag >> 3);
        wireType = (int)(tag & 7);
        if (field == 0)
        {
            throw new InvalidDataException("field number 0");
        }

        return true;
    }

    /// <summary>Reads a length prefix and returns the absolute position where that field ends.</summary>
    public long ReadLength()
    {
        var length = ReadVarint();
        var end = stream.Position + (long)length;
        if (length > (ulong)stream.Length || end > stream.Length)
        {
            throw new InvalidDataException("a length runs past the end of the file");
        }

        return end;
    }

    public string ReadString(long end)
    {
        var length = end - stream.Position;
        if (length > MaxStringBytes)
        {
            throw new InvalidDataException("a name is implausibly long");
        }

        var bytes = new byte[length];
        stream.ReadExactly(bytes);
        return Encoding.UTF8.GetString(bytes);
    }

    public void SkipTo(long end) => stream.Position = end;

    public void Skip(int wireType, long end)
    {
        switch (wireType)
        {
            case Varint:
                ReadVarint();
                break;
            case Fixed64:
                stream.Position += 8;
                break;
            case Fixed32:
                stream.Position += 4;
                break;
            case LengthDelimited:
                SkipTo(ReadLength());
                break;
            default:
                throw new InvalidDataException($"unsupported wire type {wireType}");
        }

        if (stream.Position > end)
        {
            throw new InvalidDataException("a field runs past the end of its message");
        }
    }

    private ulong ReadVarint()
    {
        ulong value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            var next = stream.ReadByte();
            if (next < 0)
            {
                throw new InvalidDataException("the file ends inside a field");
            }

            value |= (ulong)(next & 0x7F) << shift;
            if ((next & 0x80) == 0)
            {
                return value;
            }
        }

        throw new InvalidDataException("a varint is longer than 10 bytes");
    }
}
