using System.Net;

namespace MaaS.Server.Tests.Infrastructure;

/// <summary>
/// A request body sent by a slow client: the first half at once, the rest only when <c>gate</c> completes, so that the
/// server is mid-read (holding whatever it holds while a body arrives) for as long as a test wants.
/// </summary>
public sealed class GatedContent(byte[] bytes, Task gate) : HttpContent
{
    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
    {
        var half = bytes.Length / 2;
        await stream.WriteAsync(bytes.AsMemory(0, half));
        await stream.FlushAsync();
        await gate;
        await stream.WriteAsync(bytes.AsMemory(half));
    }

    protected override bool TryComputeLength(out long length)
    {
        length = bytes.Length;
        return true;
    }
}
