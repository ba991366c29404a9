using MaaS.Server.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace MaaS.Server.Tests.Hosting;

/// <summary>
/// The admission middleware on its own: one slot (MaxInFlight 1) and one queue place (MaxQueued 1), requests to a route
/// marked with the inference limits, a handler that holds its slot until the test lets it go.
/// </summary>
public sealed class InferenceAdmissionMiddlewareTests : IDisposable
{
    private readonly InferenceLimits _limits = new(new LimitsOptions { MaxInFlight = 1, MaxQueued = 1, RetryAfterSeconds = 2 }, processors: 2, availableMemoryBytes: 1L << 32);
    private readonly ShutdownCoordinator _shutdown = new(Options.Create(new ShutdownOptions { DelaySeconds = 0 }), TimeProvider.System, NullLogger<ShutdownCoordinator>.Instance);
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _ran;

    public void Dispose() => _limits.Dispose();

    [Fact]
    public async Task Limited_PastSlotAndQueue_QueuesOneAnswers503WithRetryAfterAndRunsTheQueuedOneLater()
    {
        var middleware = Middleware();
        var first = middleware.InvokeAsync(Context(limited: true));
        var queued = middleware.InvokeAsync(Context(limited: true));
        var rejected = Context(limited: true);

        await middleware.InvokeAsync(rejected);

        _ran.Should().Be(1);
        _limits.InFlight.Should().Be(1);
        _limits.Queued.Should().Be(1);
        rejected.Response.StatusCode.Should().Be(StatusCodes.Status503ServiceUnavailable);
        rejected.Response.Headers.RetryAfter.ToString().Should().Be("2");
        Body(rejected).Should().Contain("MaaS:Limits:MaxInFlight");
        _limits.Rejected.Should().Contain(("max_queued", 1L));

        _release.SetResult();
        await first;
        await queued;
        _ran.Should().Be(2);
        _limits.InFlight.Should().Be(0);
        _limits.Queued.Should().Be(0);
    }

    [Fact]
    public async Task Limited_CallerGoesAwayWhileQueued_LeavesTheQueueAsACancellation()
    {
        var middleware = Middleware();
        var first = middleware.InvokeAsync(Context(limited: true));
        using var abort = new CancellationTokenSource();
        var leaving = Context(limited: true);
        leaving.RequestAborted = abort.Token;
        var waiting = middleware.InvokeAsync(leaving);
        _limits.Queued.Should().Be(1);

        await abort.CancelAsync();
        await waiting.Invoking(async task => await task).Should().ThrowAsync<OperationCanceledException>();

        _limits.Queued.Should().Be(0);
        leaving.Response.HasStarted.Should().BeFalse();
        Body(leaving).Should().BeEmpty();
        _release.SetResult();
        await first;
        _ran.Should().Be(1);
        _limits.InFlight.Should().Be(0);
    }

    [Fact]
    public async Task Limited_CallerGoesAwayWhileQueued_IsRecordedAs499BehindTheErrorMiddleware()
    {
        // As in the server: the error middleware outside admission turns the cancellation into a 499 nobody receives,
        // which the request log and the metrics then report instead of a 200 that was never sent.
        var admission = Middleware();
        var errors = new ErrorHandlingMiddleware(admission.InvokeAsync, _limits, NullLogger<ErrorHandlingMiddleware>.Instance);
        var first = errors.InvokeAsync(Context(limited: true));
        using var abort = new CancellationTokenSource();
        var leaving = Context(limited: true);
        leaving.RequestAborted = abort.Token;
        var waiting = errors.InvokeAsync(leaving);

        await abort.CancelAsync();
        await waiting;

        leaving.Response.StatusCode.Should().Be(StatusCodes.Status499ClientClosedRequest);
        Body(leaving).Should().BeEmpty();
        _limits.Queued.Should().Be(0);
        _release.SetResult();
        await first;
        _ran.Should().Be(1);
    }

    [Fact]
    public async Task Unlimited_TakesNoSlot()
    {
        _release.SetResult();
        var middleware = Middleware();
        var first = middleware.InvokeAsync(Context(limited: true));

        await middleware.InvokeAsync(Context(limited: false));
        await middleware.InvokeAsync(new DefaultHttpContext());    // no endpoint at all

        await first;
        _ran.Should().Be(3);
        _limits.Rejected.Should().Contain(("max_queued", 0L));
    }

    [Fact]
    public async Task Draining_MarkedRoute_Answers503WithoutRunning()
    {
        _release.SetResult();
        await _shutdown.StoppingAsync(CancellationToken.None);
        var context = Context(limited: true, draining: true);

        await Middleware().InvokeAsync(context);

        _ran.Should().Be(0);
        context.Response.StatusCode.Should().Be(StatusCodes.Status503ServiceUnavailable);
        Body(context).Should().Contain("shutting down");
        var unmarked = Context(limited: true);
        await Middleware().InvokeAsync(unmarked);
        _ran.Should().Be(1);
    }

    private InferenceAdmissionMiddleware Middleware() => new(
        async context =>
        {
            Interlocked.Increment(ref _ran);
            await _release.Task;
            context.Response.StatusCode = StatusCodes.Status200OK;
        },
        _shutdown,
        _limits);

    private static DefaultHttpContext Context(bool limited, bool draining = false)
    {
        var metadata = new List<object>();
        if (limited)
        {
            metadata.Add(InferenceLimited.Instance);
        }

        if (draining)
        {
            metadata.Add(RefusedWhileDraining.Instance);
        }

        var context = new DefaultHttpContext();
        context.Response.Body = new MemoryStream();
        context.SetEndpoint(new Endpoint(_ => Task.CompletedTask, new EndpointMetadataCollection(metadata), "test"));
        return context;
    }

    private static string Body(HttpContext context) =>
        System.Text.Encoding.UTF8.GetString(((MemoryStream)context.Response.Body).ToArray());
}
