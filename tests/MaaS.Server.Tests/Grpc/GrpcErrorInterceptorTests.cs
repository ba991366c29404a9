using Grpc.Core;
using MaaS.Server.Endpoints.Grpc;
using MaaS.Server.Hosting;
using Microsoft.Extensions.Time.Testing;

namespace MaaS.Server.Tests.Grpc;

/// <summary>
/// How a call that ended while its method ran is answered. The server counts the timeout from when the headers
/// arrived, so a client whose own deadline passes resets the call a little before the server's deadline: that is the
/// deadline, not a cancel (under load this race made the deadline tests see CANCELLED).
/// </summary>
public sealed class GrpcErrorInterceptorTests : IDisposable
{
    private static readonly DateTime Start = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
    private readonly FakeTimeProvider _time = new(Start);
    private readonly InferenceLimits _limits = new(new LimitsOptions { MaxInFlight = 1, MaxQueued = 0 }, processors: 1, availableMemoryBytes: 1L << 30);

    public void Dispose() => _limits.Dispose();

    [Fact]
    public async Task Unary_ClientResetsJustBeforeTheServersDeadline_DeadlineExceeded()
    {
        var error = await UnaryAsync(deadlineIn: TimeSpan.FromMilliseconds(500), resetAfter: TimeSpan.FromMilliseconds(440), new OperationCanceledException());

        error.StatusCode.Should().Be(StatusCode.DeadlineExceeded, error.Status.Detail);
    }

    [Fact]
    public async Task Unary_ClientCancelsEarly_Cancelled()
    {
        var error = await UnaryAsync(deadlineIn: TimeSpan.FromSeconds(5), resetAfter: TimeSpan.FromMilliseconds(100), new OperationCanceledException());

        error.StatusCode.Should().Be(StatusCode.Cancelled, error.Status.Detail);
    }

    [Fact]
    public async Task Unary_NoDeadline_Cancelled()
    {
        var error = await UnaryAsync(deadlineIn: null, resetAfter: TimeSpan.FromHours(1), new OperationCanceledException());

        error.StatusCode.Should().Be(StatusCode.Cancelled, error.Status.Detail);
    }

    [Fact]
    public async Task Stream_ReadingAResetCallFailsAfterTheDeadline_DeadlineExceededNotAHandlerError()
    {
        using var reset = new CancellationTokenSource();
        var context = new FakeCallContext(Start.AddMilliseconds(500), reset.Token);
        var interceptor = new GrpcErrorInterceptor(_limits, _time);

        var call = () => interceptor.DuplexStreamingServerHandler<string, string>(null!, null!, context, async (_, _, _) =>
        {
            _time.Advance(TimeSpan.FromMilliseconds(520));
            await reset.CancelAsync();
            throw new IOException("the request stream was reset");
        });

        (await call.Should().ThrowAsync<RpcException>()).Which.StatusCode.Should().Be(StatusCode.DeadlineExceeded);
    }

    [Fact]
    public async Task Unary_ABugAfterTheCallEnded_StaysABug()
    {
        using var reset = new CancellationTokenSource();
        await reset.CancelAsync();
        var interceptor = new GrpcErrorInterceptor(_limits, _time);

        var call = () => interceptor.UnaryServerHandler<string, string>(
            "", new FakeCallContext(DateTime.MaxValue, reset.Token), (_, _) => throw new ArgumentNullException("request"));

        await call.Should().ThrowAsync<ArgumentNullException>();
    }

    private async Task<RpcException> UnaryAsync(TimeSpan? deadlineIn, TimeSpan resetAfter, Exception thrown)
    {
        using var reset = new CancellationTokenSource();
        var deadline = deadlineIn is { } timeout ? Start + timeout : DateTime.MaxValue;
        var interceptor = new GrpcErrorInterceptor(_limits, _time);

        var call = () => interceptor.UnaryServerHandler<string, string>("", new FakeCallContext(deadline, reset.Token), async (_, _) =>
        {
            _time.Advance(resetAfter);
            await reset.CancelAsync();
            throw thrown;
        });

        return (await call.Should().ThrowAsync<RpcException>()).Which;
    }

    private sealed class FakeCallContext(DateTime deadline, CancellationToken cancellationToken) : ServerCallContext
    {
        protected override string MethodCore => "/inference.GRPCInferenceService/ModelInfer";
        protected override string HostCore => "localhost";
        protected override string PeerCore => "ipv4:127.0.0.1:1";
        protected override DateTime DeadlineCore => deadline;
        protected override Metadata RequestHeadersCore { get; } = [];
        protected override CancellationToken CancellationTokenCore => cancellationToken;
        protected override Metadata ResponseTrailersCore { get; } = [];
        protected override Status StatusCore { get; set; }
        protected override WriteOptions? WriteOptionsCore { get; set; }
        protected override AuthContext AuthContextCore => new(null, []);

        protected override ContextPropagationToken CreatePropagationTokenCore(ContextPropagationOptions? options) =>
            throw new NotSupportedException();

        protected override Task WriteResponseHeadersAsyncCore(Metadata responseHeaders) => Task.CompletedTask;
    }
}
