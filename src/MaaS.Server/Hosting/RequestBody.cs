using System.Buffers;
using System.IO.Compression;
using MaaS.Core;

namespace MaaS.Server.Hosting;

/// <summary>
/// A whole request body in one pooled buffer, decompressed when Content-Encoding says gzip or deflate. Inference
/// requests are parsed in place from it (JSON header, then binary tensors), so it is read once and copied once.
/// </summary>
internal sealed class RequestBody : IDisposable
{
    private byte[]? _buffer;

    private RequestBody(byte[] buffer, int length)
    {
        _buffer = buffer;
        Length = length;
    }

    public int Length { get; }

    public ReadOnlySpan<byte> Span => Memory.Span;

    /// <summary>The body; binary tensors may be used from it in place, so it must outlive the request parsed from it.</summary>
    public ReadOnlyMemory<byte> Memory => (_buffer ?? throw new ObjectDisposedException(nameof(RequestBody))).AsMemory(0, Length);

    /// <summary>Reads the body, refusing with 413 once it (or its decompressed form) passes <paramref name="limit"/> bytes.</summary>
    public static async Task<RequestBody> ReadAsync(HttpRequest request, long limit, CancellationToken cancellationToken)
    {
        var declared = request.ContentLength;
        if (declared > limit)
        {
            throw TooLarge(limit);
        }

        var encoding = request.Headers.ContentEncoding.ToString();
        await using var stream = Decode(request.Body, encoding);
        var compressed = stream != request.Body;
        // With a Content-Length (and no decompression) the server delivers exactly that many bytes, so the read stops
        // there: waiting for the stream's final zero-length read would need free room in the buffer, and a body
        // filling it exactly (any 2^n bytes, which the pool rents exactly) would be copied into one twice its size.
        var expected = !compressed && declared is > 0 ? declared.Value : -1;
        var capacity = expected > 0 ? (int)expected : 16 * 1024;
        var buffer = ArrayPool<byte>.Shared.Rent(capacity);
        var length = 0;
        try
        {
            while (true)
            {
                if (length == buffer.Length)
                {
                    // Room for one byte past the limit tells a body at the limit from one over it.
                    buffer = Grow(buffer, length, (int)Math.Min(limit + 1, (long)buffer.Length * 2));
                }

                var read = await stream.ReadAsync(buffer.AsMemory(length), cancellationToken);
                if (read == 0)
                {
                    break;
                }

                length += read;
                if (length > limit)
                {
                    throw TooLarge(limit);
                }

                if (length == expected)
                {
                    break;
                }
            }
        }
        catch (InvalidDataException ex)
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw new ServingException(FailureKind.InvalidInput, $"request body is not valid {encoding} data: {ex.Message}", ex);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }

        return new RequestBody(buffer, length);
    }

    private static Stream Decode(Stream body, string encoding) => encoding.ToUpperInvariant() switch
    {
        "" or "IDENTITY" => body,
        "GZIP" => new GZipStream(body, CompressionMode.Decompress, leaveOpen: true),
        "DEFLATE" => new ZLibStream(body, CompressionMode.Decompress, leaveOpen: true),   // HTTP's deflate is zlib-wrapped (RFC 9110)
        _ => throw ServingException.Invalid($"unsupported Content-Encoding '{encoding}'; expected gzip, deflate or none"),
    };

    private static byte[] Grow(byte[] buffer, int length, int size)
    {
        var larger = ArrayPool<byte>.Shared.Rent(size);
        buffer.AsSpan(0, length).CopyTo(larger);
        ArrayPool<byte>.Shared.Return(buffer);
        return larger;
    }

    private static ServingException TooLarge(long limit) =>
        new(FailureKind.PayloadTooLarge, $"request body is larger than the limit of {limit} bytes (MaaS:Limits:MaxRequestBodyBytes)");

    public void Dispose()
    {
        var buffer = Interlocked.Exchange(ref _buffer, null);
        if (buffer is not null)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
