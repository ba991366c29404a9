using Grpc.Core;
using Inference;
using MaaS.Core;
using MaaS.Core.Inference;
using MaaS.Server.Endpoints.V2;
using MaaS.Server.Hosting;
using Microsoft.Extensions.Options;

namespace MaaS.Server.Endpoints.Grpc;

/// <summary>ModelInfer and ModelStreamInfer: the HTTP infer route's pipeline with gRPC's request and answer.</summary>
internal sealed class GrpcInference(InferencePipeline pipeline, InferenceLimits limits, IOptions<GrpcOptions> options)
{
    /// <summary>
    /// Takes a slot of the server-wide limits (MaaS:Limits:MaxInFlight, MaxQueued) here rather than in the admission
    /// middleware, so that the call's deadline also bounds its wait for a slot; past both limits, UNAVAILABLE.
    /// </summary>
    public async Task<ModelInferResponse> InferAsync(ModelInferRequest message, ServerCallContext context)
    {
        using var permit = await limits.AcquireAsync(context.CancellationToken);
        return permit.IsAcquired
            ? await RunAsync(message, context.GetHttpContext(), context.CancellationToken)
            : throw new RpcException(new Status(StatusCode.Unavailable, limits.Reject()));
    }

    /// <summary>
    /// Runs up to MaaS:Grpc:StreamMaxInFlight requests of the stream at once and answers them in the order sent
    /// (<see cref="GrpcInferStream"/>). A request that fails gets its error in error_message, with its id, and the stream
    /// goes on, as Triton's does. Each request takes a slot of the server-wide limits (MaaS:Limits:MaxInFlight, MaxQueued)
    /// while it runs, like a ModelInfer call; the whole stream holds none.
    /// </summary>
    public Task StreamAsync(
        IAsyncStreamReader<ModelInferRequest> requests, IServerStreamWriter<ModelStreamInferResponse> responses, ServerCallContext context) =>
        GrpcInferStream.RunAsync(requests, responses, context, options.Value.StreamMaxInFlight, AnswerAsync);

    private async Task<ModelInferResponse> RunAsync(ModelInferRequest message, HttpContext? call, CancellationToken cancellationToken)
    {
        var exchange = new Exchange(message);
        var version = GrpcVersion.Parse(message.ModelVersion, message.Parameters);
        await pipeline.RunAsync(call, message.ModelName, version.Number, version.Label, exchange, cancellationToken);
        return exchange.Response!;
    }

    private async Task<ModelStreamInferResponse> AnswerAsync(ModelInferRequest message, CancellationToken cancellationToken)
    {
        using var permit = await limits.AcquireAsync(cancellationToken);
        if (!permit.IsAcquired)
        {
            return Error(message, limits.Reject());
        }

        try
        {
            // The stream records the served model and version itself: its requests run at once on one HttpContext.
            return new ModelStreamInferResponse { InferResponse = await RunAsync(message, null, cancellationToken) };
        }
        catch (ServingException ex)
        {
            GrpcErrorInterceptor.Count(ex, limits);
            return Error(message, ex.Message);
        }
    }

    /// <summary>A failed request's answer carries its id, as Triton's does, so that a client tells which one failed.</summary>
    private static ModelStreamInferResponse Error(ModelInferRequest message, string error) =>
        new() { ErrorMessage = error, InferResponse = new ModelInferResponse { Id = message.Id } };

    private sealed class Exchange(ModelInferRequest message) : IInferExchange
    {
        public ModelInferResponse? Response { get; private set; }

        // The request's raw contents may be used in place: the message outlives the request.
        public InferRequest Decode(ModelSignature signature) => GrpcTensorReader.Read(message, signature);

        public ValueTask WriteAsync(InferResult result, InferRequest request, string modelName, long version, CancellationToken cancellationToken)
        {
            Response = GrpcTensorWriter.Write(result, request.Id, modelName, version);
            return ValueTask.CompletedTask;
        }
    }
}
