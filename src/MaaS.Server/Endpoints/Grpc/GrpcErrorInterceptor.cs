using Grpc.Core;
using Grpc.Core.Interceptors;
using MaaS.Core;
using MaaS.Core.Sessions;
using MaaS.Server.Hosting;

namespace MaaS.Server.Endpoints.Grpc;

/// <summary>
/// Turns the failures a gRPC method throws into gRPC statuses through the HTTP error table, with the same messages:
/// 400 INVALID_ARGUMENT, 404 NOT_FOUND, 413 RESOURCE_EXHAUSTED, 503 UNAVAILABLE... A call the client cancelled ends
/// CANCELLED and one whose deadline passed DEADLINE_EXCEEDED, never as a server error, whatever the method was doing
/// when the call ended (waiting for a slot, in the batch queue, running, reading or writing the stream).
/// </summary>
/// <remarks>
/// When the server's own deadline passes, Grpc.AspNetCore answers DEADLINE_EXCEEDED itself before it cancels the call's
/// token. What reaches this interceptor is mostly a client that reset the call, and a client resets it when its own
/// deadline passes too: that deadline is earlier than the server's, which counts the timeout from when the headers
/// arrived, by the time they took to arrive (tens to hundreds of milliseconds on a loaded machine). Such a reset is
/// the deadline, not a cancel; see <see cref="Cancelled"/>.
/// </remarks>
internal sealed class GrpcErrorInterceptor(InferenceLimits limits, TimeProvider time) : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        var arrived = time.GetUtcNow().UtcDateTime;
        try
        {
            return await continuation(request, context);
        }
        catch (ServingException ex)
        {
            throw ToRpc(ex);
        }
        catch (Exception ex) when (EndedByCall(ex, context))
        {
            throw Cancelled(context, arrived, ex);
        }
    }

    public override async Task DuplexStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context,
        DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        var arrived = time.GetUtcNow().UtcDateTime;
        try
        {
            await continuation(requestStream, responseStream, context);
        }
        catch (ServingException ex)
        {
            throw ToRpc(ex);
        }
        catch (Exception ex) when (EndedByCall(ex, context))
        {
            throw Cancelled(context, arrived, ex);
        }
    }

    /// <summary>Counts a 503 for an instance that stayed busy too long, as the HTTP error handler does.</summary>
    public static void Count(ServingException exception, InferenceLimits limits)
    {
        if (exception.InnerException is SessionWaitTimeoutException)
        {
            limits.CountSessionWaitTimeout();
        }
    }

    /// <summary>
    /// True for what an ended call makes the method throw: the cancellation itself, or reading or writing a stream that
    /// is gone (an IOException, or InvalidOperationException "the request is complete"). Anything else is a bug, and
    /// stays one even when the call has ended.
    /// </summary>
    private static bool EndedByCall(Exception exception, ServerCallContext context) =>
        exception is OperationCanceledException or IOException or InvalidOperationException
        && context.CancellationToken.IsCancellationRequested;

    /// <summary>
    /// DEADLINE_EXCEEDED when the deadline has passed or the call ended in the last stretch before it, where the client's
    /// own deadline lies (half the timeout, at most <see cref="MaxDeadlineLead"/>); CANCELLED before that.
    /// </summary>
    internal RpcException Cancelled(ServerCallContext context, DateTime arrived, Exception exception)
    {
        var deadline = context.Deadline;
        var lead = deadline == DateTime.MaxValue
            ? TimeSpan.Zero
            : TimeSpan.FromTicks(Math.Min(MaxDeadlineLead.Ticks, Math.Max(0, (deadline - arrived).Ticks / 2)));
        return deadline - lead <= time.GetUtcNow().UtcDateTime
            ? new RpcException(new Status(StatusCode.DeadlineExceeded, "the call's deadline passed", exception))
            : new RpcException(new Status(StatusCode.Cancelled, "the call was cancelled", exception));
    }

    /// <summary>How far before the server's deadline a reset still counts as the client's deadline passing.</summary>
    internal static readonly TimeSpan MaxDeadlineLead = TimeSpan.FromSeconds(1);

    private RpcException ToRpc(ServingException exception)
    {
        Count(exception, limits);
        return new RpcException(new Status(GrpcStatusCodes.FromHttp(ErrorHandling.ToStatusCode(exception.Kind)), exception.Message));
    }
}
