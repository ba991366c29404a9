using System.Buffers;
using System.Buffers.Text;
using System.Globalization;
using MaaS.Core;

namespace MaaS.Server.Endpoints.V2;

/// <summary>
/// Reads one JSON string value holding base64 straight out of a <see cref="LoadRequestBuffer"/>, decoding as it goes,
/// and ends at the closing quote (left consumed). JSON escapes that writers use in base64 (<c>\/</c>, <c>\u002B</c>)
/// are understood, and escaped line breaks skipped; anything else is a 400.
/// </summary>
internal sealed class Base64StringStream(LoadRequestBuffer body, string parameter) : Stream
{
    private const int DecodeChunk = 48 * 1024;

    private readonly byte[] _chars = new byte[DecodeChunk / 3 * 4];
    private readonly byte[] _decoded = new byte[DecodeChunk];
    private int _charCount;
    private int _decodedStart;
    private int _decodedEnd;
    private bool _closed;
    private bool _finished;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    /// <summary>Moves past the opening quote (and the colon before it, when the reader left it).</summary>
    public async Task OpenAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            while (body.Start < body.End && body.Buffer[body.Start] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n' or (byte)':')
            {
                body.Start++;
            }

            if (body.Start < body.End)
            {
                if (body.Buffer[body.Start] != (byte)'"')
                {
                    throw ServingException.Invalid($"load parameter '{parameter}' must be a string");
                }

                body.Start++;
                return;
            }

            if (!await body.FillAsync(0, cancellationToken))
            {
                throw ServingException.Invalid($"malformed JSON in load request: it ends inside '{parameter}'");
            }
        }
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (_decodedStart == _decodedEnd)
        {
            if (_finished)
            {
                return 0;
            }

            await GatherAsync(cancellationToken);
            Decode();
        }

        var count = Math.Min(buffer.Length, _decodedEnd - _decodedStart);
        _decoded.AsSpan(_decodedStart, count).CopyTo(buffer.Span);
        _decodedStart += count;
        return count;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) =>
        throw new NotSupportedException("the load request body is read asynchronously");

    /// <summary>Collects base64 characters until the chunk is full or the closing quote is reached.</summary>
    private async Task GatherAsync(CancellationToken cancellationToken)
    {
        while (!_closed && _charCount < _chars.Length)
        {
            if (body.Start == body.End && !await body.FillAsync(0, cancellationToken))
            {
                throw ServingException.Invalid($"malformed JSON in load request: it ends inside '{parameter}'");
            }

            var pending = body.Pending;
            var used = 0;
            while (used < pending.Length && _charCount < _chars.Length)
            {
                var c = pending[used];
                if (c == (byte)'"')
                {
                    _closed = true;
                    used++;
                    break;
                }

                if (c == (byte)'\\')
                {
                    var escape = ReadEscape(pending[used..], out var length);
                    if (length == 0)
                    {
                        break;   // the escape continues in the next chunk
                    }

                    used += length;
                    if (escape != 0)
                    {
                        _chars[_charCount++] = escape;
                    }

                    continue;
                }

                _chars[_charCount++] = c;
                used++;
            }

            body.Start += used;
            if (used == 0 && !_closed && _charCount < _chars.Length && !await body.FillAsync(0, cancellationToken))
            {
                throw ServingException.Invalid($"malformed JSON in load request: it ends inside '{parameter}'");
            }
        }
    }

    /// <summary>The character an escape stands for (0 for a skipped line break); <paramref name="length"/> 0 when incomplete.</summary>
    private byte ReadEscape(ReadOnlySpan<byte> text, out int length)
    {
        length = 0;
        if (text.Length < 2)
        {
            return 0;
        }

        switch (text[1])
        {
            case (byte)'/':
                length = 2;
                return (byte)'/';
            case (byte)'n' or (byte)'r':
                length = 2;
                return 0;
            case (byte)'u':
                if (text.Length < 6)
                {
                    return 0;
                }

                if (int.TryParse(text.Slice(2, 4), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var code) && code is > 0 and < 128)
                {
                    length = 6;
                    return code is '\n' or '\r' ? (byte)0 : (byte)code;
                }

                break;
        }

        throw ServingException.Invalid($"load parameter '{parameter}' is not valid base64");
    }

    private void Decode()
    {
        _finished = _closed;

        // Until the closing quote, the last quantum waits: it may be the padded one, which only a final block may hold.
        var length = _closed ? _charCount : Math.Max(0, _charCount - 4) / 4 * 4;
        var status = Base64.DecodeFromUtf8(_chars.AsSpan(0, length), _decoded, out var consumed, out var written, isFinalBlock: _closed);
        if (status != OperationStatus.Done || consumed != length)
        {
            throw ServingException.Invalid($"load parameter '{parameter}' is not valid base64");
        }

        _chars.AsSpan(consumed, _charCount - consumed).CopyTo(_chars);
        _charCount -= consumed;
        _decodedStart = 0;
        _decodedEnd = written;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
