using MaaS.Server.Hosting;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;

namespace MaaS.Server.Tests.Hosting;

/// <summary>How the error middleware tells Kestrel's rejection of a request apart from a client that left during its body.</summary>
public sealed class ErrorHandlingMiddlewareTests : IDisposable
{
    private readonly InferenceLimits _limits = new(new LimitsOptions(), processors: 2, availableMemoryBytes: 1L << 32);

    public void Dispose() => _limits.Dispose();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ClientLeavesDuringItsBody_IsRecordedAs499WithNoAnswer(bool reset)
    {
        // Kestrel reports a body cut short as a 400 "Unexpected end of request content" (the client closed) or as a
        // ConnectionResetException (it reset); either way the client is gone and its connection aborted, so nobody
        // would receive an answer.
        using var abort = new CancellationTokenSource();
        var context = Context(abort.Token);
        var middleware = new ErrorHandlingMiddleware(
            async _ =>
            {
                await abort.CancelAsync();
                throw reset
                    ? new ConnectionResetException("Connection reset by peer")
                    : new BadHttpRequestException("Unexpected end of request content.", StatusCodes.Status400BadRequest);
            },
            _limits,
            NullLogger<ErrorHandlingMiddleware>.Instance);

        await middleware.InvokeAsync(context);

        context.Response.StatusCode.Should().Be(StatusCodes.Status499ClientClosedRequest);
        Body(context).Should().BeEmpty();
    }

    [Theory]
    [InlineData(StatusCodes.Status400BadRequest, "Bad chunk size data.")]
    [InlineData(StatusCodes.Status413PayloadTooLarge, "Request body too large.")]
    public async Task KestrelRejectsARequestOfAClientStillThere_AnswersItsStatusAndMessage(int status, string message)
    {
        var context = Context(CancellationToken.None);
        var middleware = new ErrorHandlingMiddleware(_ => throw new BadHttpRequestException(message, status), _limits, NullLogger<ErrorHandlingMiddleware>.Instance);

        await middleware.InvokeAsync(context);

        context.Response.StatusCode.Should().Be(status);
        Body(context).Should().Be($$"""{"error":"{{message}}"}""");
    }

    [Fact]
    public async Task IOExceptionWhileTheClientIsStillThere_IsAServerError()
    {
        // Only a client that left makes an I/O failure its own; otherwise it is the server's (a disk, a bug).
        var context = Context(CancellationToken.None);
        var middleware = new ErrorHandlingMiddleware(_ => throw new IOException("the disk went away"), _limits, NullLogger<ErrorHandlingMiddleware>.Instance);

        await middleware.InvokeAsync(context);

        context.Response.StatusCode.Should().Be(StatusCodes.Status500InternalServerError);
        Body(context).Should().Be("""{"error":"internal error"}""");
    }

    private static DefaultHttpContext Context(CancellationToken aborted) =>
        new() { RequestAborted = aborted, Response = { Body = new MemoryStream() } };

    private static string Body(HttpContext context) =>
        System.Text.Encoding.UTF8.GetString(((MemoryStream)context.Response.Body).ToArray());
}
