using Grpc.Core;
using Inference;
using MaaS.Core;
using MaaS.Core.Inference;
using MaaS.Core.Registry;
using MaaS.Server.Endpoints.V2;
using MaaS.Server.Hosting;

namespace MaaS.Server.Endpoints.Grpc;

/// <summary>ModelInfer and ModelStreamInfer: the HTTP infer route's pipeline with gRPC's request and answer.</summary>
internal sealed class GrpcInference(InferencePipeline pipeline, InferenceLimits limits)
{
    /// <summary>
    /// Takes a slot of the server-wide limits (MaaS:Limits:MaxInFlight, MaxQueued) here rather than in the rate-limiting
    /// middleware, so that the call's deadline also bounds its wait for a slot; past both limits, UNAVAILABLE.
    /// </summary>
    public async Task<ModelInferResponse> InferAsync(ModelInferRequest message, ServerCallContext context)
    {
        using var permit = await limits.Limiter.AcquireAsync(1, context.CancellationToken);
        return permit.IsAcquired
            ? await RunAsync(message, context)
            : throw new RpcException(new Status(StatusCode.Unavailable, limits.Reject()));
    }

    private async Task<ModelInferResponse> RunAsync(ModelInferRequest message, ServerCallContext context)
    {
        var exchange = new Exchange(message);
        var version = GrpcVersion.Parse(message.ModelVersion, message.Parameters);
        await pipeline.RunAsync(context.GetHttpContext(), message.ModelName, version.Number, version.Label, exchange, context.CancellationToken);
        return exchange.Response!;
    }

    /// <summary>
    /// Answers each request of the stream in turn. A request that fails gets its error in error_message and the
    /// stream goes on, as Triton's does. Each request takes a slot of the server-wide limits (MaaS:Limits:MaxInFlight,
    /// MaxQueued) while it runs, like a ModelInfer call; the whole stream holds none.
    /// </summary>
    public async Task StreamAsync(
        IAsyncStreamReader<ModelInferRequest> requests, IServerStreamWriter<ModelStreamInferResponse> responses, ServerCallContext context)
    {
        var cancellationToken = context.CancellationToken;
        while (await requests.MoveNext(cancellationToken))
        {
            var answer = await AnswerAsync(requests.Current, context);
            await responses.WriteAsync(answer, cancellationToken);
        }
    }

    private async Task<ModelStreamInferResponse> AnswerAsync(ModelInferRequest message, ServerCallContext context)
    {
        using var permit = await limits.Limiter.AcquireAsync(1, context.CancellationToken);
        if (!permit.IsAcquired)
        {
            return new ModelStreamInferResponse { ErrorMessage = limits.Reject() };
        }

        try
        {
            return new ModelStreamInferResponse { InferResponse = await RunAsync(message, context) };
        }
        catch (ServingException ex)
        {
            GrpcErrorInterceptor.Count(ex, limits);
            return new ModelStreamInferResponse { ErrorMessage = ex.Message };
        }
    }

    private sealed class Exchange(ModelInferRequest message) : IInferExchange
    {
        public ModelInferResponse? Response { get; private set; }

        // The request's raw contents may be used in place: the message outlives the request.
        public InferRequest Decode(ModelSignature signature) => GrpcTensorReader.Read(message, signature);

        public ValueTask WriteAsync(InferResult result, InferRequest request, VersionLease lease, CancellationToken cancellationToken)
        {
            Response = GrpcTensorWriter.Write(result, request.Id, lease.ModelName, lease.VersionNumber);
            return ValueTask.CompletedTask;
        }
    }
}
