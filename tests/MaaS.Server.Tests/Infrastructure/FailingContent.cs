using System.Net;

namespace MaaS.Server.Tests.Infrastructure;

/// <summary>
/// A request body whose stream breaks (IOException) after <c>failAfter</c> bytes, as when a client's connection drops
/// mid-upload. <c>beforeFailing</c> runs once those bytes are sent, so a test can see what the server made of them.
/// </summary>
public sealed class FailingContent(byte[] bytes, int failAfter, Func<Task> beforeFailing) : HttpContent
{
    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
    {
        await stream.WriteAsync(bytes.AsMemory(0, failAfter));
        await stream.FlushAsync();
        await beforeFailing();
        throw new IOException("the client's connection broke mid-upload");
    }

    protected override bool TryComputeLength(out long length)
    {
        length = bytes.Length;
        return true;
    }
}
