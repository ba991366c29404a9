namespace MaaS.Server.Endpoints.V2;

/// <summary>
/// A window over a request body read in chunks: what has been read and not yet consumed is
/// <c>Buffer[Start..End]</c>. It grows only to hold one JSON token (up to <see cref="MaxTokenBytes"/>): file contents
/// pass through it a chunk at a time, so a multi-gigabyte load request never sits in memory.
/// </summary>
internal sealed class LoadRequestBuffer(Stream source, int maxTokenBytes)
{
    private const int ChunkBytes = 64 * 1024;

    public byte[] Buffer { get; private set; } = new byte[ChunkBytes];

    public int Start { get; set; }

    public int End { get; private set; }

    /// <summary>The body has been read to its end.</summary>
    public bool Eof { get; private set; }

    public int MaxTokenBytes { get; } = maxTokenBytes;

    public ReadOnlySpan<byte> Pending => Buffer.AsSpan(Start, End - Start);

    /// <summary>
    /// Reads more of the body, keeping what is pending (moved to the front, after <paramref name="reserve"/> free bytes).
    /// False at the end of the body. 413 when one token outgrows <see cref="MaxTokenBytes"/>.
    /// </summary>
    public async ValueTask<bool> FillAsync(int reserve, CancellationToken cancellationToken)
    {
        if (Eof)
        {
            return false;
        }

        var pending = End - Start;
        if (reserve + pending + ChunkBytes / 4 > Buffer.Length)
        {
            if (pending > MaxTokenBytes)
            {
                throw new MaaS.Core.ServingException(
                    MaaS.Core.FailureKind.PayloadTooLarge, $"a value in the load request other than a file: parameter is larger than {MaxTokenBytes} bytes");
            }

            var grown = new byte[Math.Max(Buffer.Length * 2, reserve + pending + ChunkBytes)];
            Buffer.AsSpan(Start, pending).CopyTo(grown.AsSpan(reserve));
            Buffer = grown;
        }
        else
        {
            Buffer.AsSpan(Start, pending).CopyTo(Buffer.AsSpan(reserve));
        }

        Start = reserve;
        End = reserve + pending;
        var read = await source.ReadAsync(Buffer.AsMemory(End), cancellationToken);
        if (read == 0)
        {
            Eof = true;
            return false;
        }

        End += read;
        return true;
    }

    /// <summary>Puts <paramref name="prefix"/> in front of what is pending (to resume a JSON reader in a known state).</summary>
    public void Prepend(ReadOnlySpan<byte> prefix)
    {
        var pending = End - Start;
        if (prefix.Length + pending > Buffer.Length)
        {
            var grown = new byte[prefix.Length + pending + ChunkBytes];
            Buffer.AsSpan(Start, pending).CopyTo(grown.AsSpan(prefix.Length));
            Buffer = grown;
        }
        else
        {
            Buffer.AsSpan(Start, pending).CopyTo(Buffer.AsSpan(prefix.Length));
        }

        prefix.CopyTo(Buffer);
        Start = 0;
        End = prefix.Length + pending;
    }
}
