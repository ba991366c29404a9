using Grpc.Core;
using Grpc.Core.Interceptors;
using MaaS.Core;
using MaaS.Core.Sessions;
using MaaS.Server.Hosting;

namespace MaaS.Server.Endpoints.Grpc;

/// <summary>
/// Turns the failures a gRPC method throws into gRPC statuses through the HTTP error table, with the same messages:
/// 400 INVALID_ARGUMENT, 404 NOT_FOUND, 413 RESOURCE_EXHAUSTED, 503 UNAVAILABLE... A call the client cancelled ends
/// CANCELLED, not as a server error.
/// </summary>
internal sealed class GrpcErrorInterceptor(InferenceLimits limits, TimeProvider time) : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            return await continuation(request, context);
        }
        catch (ServingException ex)
        {
            throw ToRpc(ex);
        }
        catch (OperationCanceledException ex) when (context.CancellationToken.IsCancellationRequested)
        {
            throw Cancelled(context, ex);
        }
    }

    public override async Task DuplexStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context,
        DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            await continuation(requestStream, responseStream, context);
        }
        catch (ServingException ex)
        {
            throw ToRpc(ex);
        }
        catch (OperationCanceledException ex) when (context.CancellationToken.IsCancellationRequested)
        {
            throw Cancelled(context, ex);
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

    private RpcException Cancelled(ServerCallContext context, OperationCanceledException exception) =>
        context.Deadline <= time.GetUtcNow().UtcDateTime
            ? new RpcException(new Status(StatusCode.DeadlineExceeded, "the call's deadline passed", exception))
            : new RpcException(new Status(StatusCode.Cancelled, "the call was cancelled", exception));

    private RpcException ToRpc(ServingException exception)
    {
        Count(exception, limits);
        return new RpcException(new Status(GrpcStatusCodes.FromHttp(ErrorHandling.ToStatusCode(exception.Kind)), exception.Message));
    }
}
