using System.Buffers.Text;
using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Text;
using MaaS.Client;

namespace MaaS.Cli;

/// <summary>
/// One keep-alive HTTP/1.1 connection that sends the same request, encoded once, again and again: the load path of
/// <c>maas bench</c> over HTTP. On a one-core generator, HttpClient's own work per request is what a bench would
/// measure (measured on the bundled cnn, server and generator on a core each: HttpClient with the request encoded once
/// reached 0.80x of wrk's throughput, this loop 0.95x), so the bench writes the request's bytes and reads the answer's
/// status line, headers and body length (Content-Length, chunked, or to the end), no more. Error answers become a
/// <see cref="MaaSException"/> with the server's message, as the client's calls do.
/// </summary>
internal sealed class HttpLoadConnection(Uri address, ReadOnlyMemory<byte> request) : ILoadSender
{
    private const int MaxHeaderBytes = 64 * 1024;
    private const int MaxErrorBodyBytes = 16 * 1024;

    private byte[] _buffer = new byte[8192];
    private int _start;
    private int _end;
    private long _answerBytes;
    private Stream? _stream;

    /// <summary>The request's bytes: request line, headers (Host, Content-Length, the API key, the content's) and body.</summary>
    public static async Task<byte[]> FormatAsync(Uri url, string? apiKey, HttpContent content, CancellationToken cancellationToken)
    {
        var body = await content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        var head = new StringBuilder()
            .Append(CultureInfo.InvariantCulture, $"POST {url.PathAndQuery} HTTP/1.1\r\nHost: {url.Authority}\r\n")
            .Append(CultureInfo.InvariantCulture, $"Content-Length: {body.Length}\r\n");
        if (!string.IsNullOrEmpty(apiKey))
        {
            head.Append("Authorization: Bearer ").Append(apiKey).Append("\r\n");
        }

        foreach (var (name, values) in content.Headers.NonValidated)
        {
            if (!name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
            {
                head.Append(name).Append(": ").Append(values.ToString()).Append("\r\n");
            }
        }

        var headBytes = Encoding.ASCII.GetBytes(head.Append("\r\n").ToString());
        return [.. headBytes, .. body];
    }

    /// <summary>
    /// Sends the request once and reads the whole answer; a non-2xx answer throws. A kept connection the server closed
    /// while idle (nothing of an answer read) is opened again once, as HttpClient does.
    /// </summary>
    public async Task SendAsync(CancellationToken cancellationToken)
    {
        var reused = _stream is not null;
        var stream = _stream ??= await ConnectAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await stream.WriteAsync(request, cancellationToken).ConfigureAwait(false);
            var (status, keepAlive, error) = await ReadAnswerAsync(stream, cancellationToken).ConfigureAwait(false);
            if (!keepAlive)
            {
                await CloseAsync().ConfigureAwait(false);
            }

            if (status is < 200 or > 299)
            {
                throw new MaaSException((HttpStatusCode)status, MaaSClient.ErrorMessage(error ?? "", null));
            }
        }
        catch (Exception e) when (e is IOException or SocketException or InvalidDataException or System.Security.Authentication.AuthenticationException)
        {
            var nothingRead = _answerBytes == 0;
            await CloseAsync().ConfigureAwait(false);
            if (reused && nothingRead && e is IOException or SocketException)
            {
                await SendAsync(cancellationToken).ConfigureAwait(false);
                return;
            }

            throw new MaaSException(null, $"the connection to {address.Authority} failed: {e.Message}", e);
        }
    }

    public ValueTask DisposeAsync() => CloseAsync();

    private async ValueTask CloseAsync()
    {
        if (_stream is { } stream)
        {
            _stream = null;
            _start = _end = 0;
            await stream.DisposeAsync().ConfigureAwait(false);
        }
    }

    private async Task<Stream> ConnectAsync(CancellationToken cancellationToken)
    {
        Socket? socket = new(SocketType.Stream, ProtocolType.Tcp);
        NetworkStream network;
        try
        {
            socket.NoDelay = true;
            await socket.ConnectAsync(address.IdnHost, address.Port, cancellationToken).ConfigureAwait(false);
            network = new NetworkStream(socket, ownsSocket: true);
            socket = null;
        }
        catch (SocketException e)
        {
            throw new MaaSException(null, $"cannot reach the server at {address.Authority}: {e.Message}", e);
        }
        finally
        {
            socket?.Dispose();
        }

        if (address.Scheme != Uri.UriSchemeHttps)
        {
            return network;
        }

        var tls = new SslStream(network, leaveInnerStreamOpen: false);
        try
        {
            await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = address.IdnHost }, cancellationToken).ConfigureAwait(false);
            return tls;
        }
        catch
        {
            await tls.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>The status, whether the connection stays open, and an error answer's body (null for a 2xx).</summary>
    private async Task<(int Status, bool KeepAlive, string? ErrorBody)> ReadAnswerAsync(Stream stream, CancellationToken cancellationToken)
    {
        _answerBytes = _end - _start;
        while (true)
        {
            var headerLength = await ReadHeadAsync(stream, cancellationToken).ConfigureAwait(false);
            var (status, contentLength, chunked, close) = ParseHead(_buffer.AsSpan(_start, headerLength));
            _start += headerLength + 4;
            if (status is >= 100 and < 200 && status != 101)
            {
                continue; // an interim answer (100 Continue); the final one follows
            }

            var keep = status is < 200 or > 299 ? new MemoryStream() : null;
            if (chunked)
            {
                await ReadChunkedAsync(stream, keep, cancellationToken).ConfigureAwait(false);
            }
            else if (contentLength is { } length)
            {
                await SkipAsync(stream, length, keep, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                // No length: the body ends with the connection.
                await SkipAsync(stream, long.MaxValue, keep, cancellationToken).ConfigureAwait(false);
                close = true;
            }

            return (status, !close, keep is null ? null : Encoding.UTF8.GetString(keep.GetBuffer(), 0, (int)keep.Length));
        }
    }

    /// <summary>The status line and the headers that frame the body, read from the bytes (no strings on the way).</summary>
    private static (int Status, long? ContentLength, bool Chunked, bool Close) ParseHead(ReadOnlySpan<byte> head)
    {
        var lineEnd = head.IndexOf("\r\n"u8);
        var statusLine = lineEnd < 0 ? head : head[..lineEnd];
        if (statusLine.Length < 12 || !statusLine.StartsWith("HTTP/1."u8) || statusLine[8] != (byte)' '
            || !Utf8Parser.TryParse(statusLine.Slice(9, 3), out int status, out var used) || used != 3)
        {
            throw new InvalidDataException($"not an HTTP/1.1 answer: '{Encoding.ASCII.GetString(statusLine)}'");
        }

        long? contentLength = null;
        bool chunked = false, close = statusLine[7] == (byte)'0';
        var rest = lineEnd < 0 ? [] : head[(lineEnd + 2)..];
        while (!rest.IsEmpty)
        {
            var end = rest.IndexOf("\r\n"u8);
            var line = end < 0 ? rest : rest[..end];
            rest = end < 0 ? [] : rest[(end + 2)..];
            var colon = line.IndexOf((byte)':');
            if (colon <= 0)
            {
                continue;
            }

            var name = line[..colon].Trim((byte)' ');
            var value = line[(colon + 1)..].Trim((byte)' ');
            if (Ascii.EqualsIgnoreCase(name, "Content-Length"u8))
            {
                contentLength = Utf8Parser.TryParse(value, out long length, out var consumed) && consumed == value.Length && length >= 0
                    ? length
                    : throw new InvalidDataException($"a Content-Length that is not a length: '{Encoding.ASCII.GetString(value)}'");
            }
            else if (Ascii.EqualsIgnoreCase(name, "Transfer-Encoding"u8))
            {
                chunked = value.Length >= 7 && Ascii.EqualsIgnoreCase(value[^7..], "chunked"u8);
            }
            else if (Ascii.EqualsIgnoreCase(name, "Connection"u8))
            {
                var text = Encoding.ASCII.GetString(value);
                close = text.Contains("close", StringComparison.OrdinalIgnoreCase) || (close && !text.Contains("keep-alive", StringComparison.OrdinalIgnoreCase));
            }
        }

        return (status, contentLength, chunked, close);
    }

    /// <summary>Reads until the buffer holds a blank line; the head's length (without the blank line).</summary>
    private async Task<int> ReadHeadAsync(Stream stream, CancellationToken cancellationToken)
    {
        var searched = 0;
        while (true)
        {
            var end = _buffer.AsSpan(_start + searched, _end - _start - searched).IndexOf("\r\n\r\n"u8);
            if (end >= 0)
            {
                return searched + end;
            }

            searched = Math.Max(0, _end - _start - 3);
            if (_end - _start >= MaxHeaderBytes)
            {
                throw new InvalidDataException($"an answer's headers longer than {MaxHeaderBytes} bytes");
            }

            await FillAsync(stream, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task ReadChunkedAsync(Stream stream, MemoryStream? keep, CancellationToken cancellationToken)
    {
        while (true)
        {
            var line = await ReadLineAsync(stream, cancellationToken).ConfigureAwait(false);
            var size = line.AsSpan(0, line.IndexOf(';') is var semicolon and >= 0 ? semicolon : line.Length).Trim();
            if (!long.TryParse(size, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var length) || length < 0)
            {
                throw new InvalidDataException($"a chunk size that is not hexadecimal: '{line}'");
            }

            if (length == 0)
            {
                while ((await ReadLineAsync(stream, cancellationToken).ConfigureAwait(false)).Length > 0)
                {
                    // trailers
                }

                return;
            }

            await SkipAsync(stream, length, keep, cancellationToken).ConfigureAwait(false);
            if ((await ReadLineAsync(stream, cancellationToken).ConfigureAwait(false)).Length != 0)
            {
                throw new InvalidDataException("a chunk not followed by CRLF");
            }
        }
    }

    private async Task<string> ReadLineAsync(Stream stream, CancellationToken cancellationToken)
    {
        while (true)
        {
            var end = _buffer.AsSpan(_start, _end - _start).IndexOf("\r\n"u8);
            if (end >= 0)
            {
                var line = Encoding.ASCII.GetString(_buffer, _start, end);
                _start += end + 2;
                return line;
            }

            if (_end - _start >= MaxHeaderBytes)
            {
                throw new InvalidDataException($"a line longer than {MaxHeaderBytes} bytes");
            }

            await FillAsync(stream, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Consumes <paramref name="count"/> bytes (or up to the end of the stream for <see cref="long.MaxValue"/>).</summary>
    private async Task SkipAsync(Stream stream, long count, MemoryStream? keep, CancellationToken cancellationToken)
    {
        var toTheEnd = count == long.MaxValue;
        while (count > 0)
        {
            if (_start == _end)
            {
                _start = _end = 0;
                var read = await stream.ReadAsync(_buffer, cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    if (toTheEnd)
                    {
                        return;
                    }

                    throw new IOException("the server closed the connection inside an answer");
                }

                _end = read;
                _answerBytes += read;
            }

            var take = (int)Math.Min(count, _end - _start);
            if (keep is not null && keep.Length < MaxErrorBodyBytes)
            {
                await keep.WriteAsync(_buffer.AsMemory(_start, (int)Math.Min(take, MaxErrorBodyBytes - keep.Length)), cancellationToken).ConfigureAwait(false);
            }

            _start += take;
            count -= take;
        }
    }

    /// <summary>Reads more bytes after those held, moving them to the front or growing the buffer when it is full.</summary>
    private async Task FillAsync(Stream stream, CancellationToken cancellationToken)
    {
        if (_start > 0)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }

        if (_end == _buffer.Length)
        {
            Array.Resize(ref _buffer, _buffer.Length * 2);
        }

        var read = await stream.ReadAsync(_buffer.AsMemory(_end), cancellationToken).ConfigureAwait(false);
        _end += read == 0 ? throw new IOException("the server closed the connection before its answer ended") : read;
        _answerBytes += read;
    }
}
