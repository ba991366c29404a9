using Grpc.Core;
using Inference;
using MaaS.Server.Hosting;
using Microsoft.AspNetCore.Authorization;

namespace MaaS.Server.Endpoints.Grpc;

/// <summary>
/// Triton's <c>inference.GRPCInferenceService</c>. Each RPC takes the same route through the server as its HTTP
/// counterpart, with the same API-key roles (<c>authorization: Bearer</c> or <c>x-api-key</c> metadata) and limits.
/// </summary>
internal sealed class GrpcInferenceService(GrpcQueries queries, GrpcInference inference, GrpcRepository repository)
    : GRPCInferenceService.GRPCInferenceServiceBase
{
    private const string NoSharedMemory = "shared memory is not supported by this server; send tensors in the request";

    public override Task<ServerLiveResponse> ServerLive(ServerLiveRequest request, ServerCallContext context) =>
        Task.FromResult(new ServerLiveResponse { Live = true });

    public override Task<ServerReadyResponse> ServerReady(ServerReadyRequest request, ServerCallContext context) =>
        Task.FromResult(new ServerReadyResponse { Ready = queries.ServerReady });

    [Authorize(Policy = AuthPolicies.Inference)]
    public override Task<ModelReadyResponse> ModelReady(ModelReadyRequest request, ServerCallContext context) =>
        Task.FromResult(new ModelReadyResponse { Ready = queries.ModelReady(request) });

    [Authorize(Policy = AuthPolicies.Inference)]
    public override Task<ServerMetadataResponse> ServerMetadata(ServerMetadataRequest request, ServerCallContext context) =>
        Task.FromResult(GrpcQueries.ServerMetadata());

    [Authorize(Policy = AuthPolicies.Inference)]
    public override Task<ModelMetadataResponse> ModelMetadata(ModelMetadataRequest request, ServerCallContext context) =>
        queries.ModelMetadataAsync(request, context.CancellationToken);

    [Authorize(Policy = AuthPolicies.Inference)]
    public override Task<ModelInferResponse> ModelInfer(ModelInferRequest request, ServerCallContext context) =>
        inference.InferAsync(request, context);

    [Authorize(Policy = AuthPolicies.Inference)]
    public override Task ModelStreamInfer(
        IAsyncStreamReader<ModelInferRequest> requestStream, IServerStreamWriter<ModelStreamInferResponse> responseStream, ServerCallContext context) =>
        inference.StreamAsync(requestStream, responseStream, context);

    [Authorize(Policy = AuthPolicies.Inference)]
    public override Task<ModelConfigResponse> ModelConfig(ModelConfigRequest request, ServerCallContext context) =>
        queries.ModelConfigAsync(request, context.CancellationToken);

    [Authorize(Policy = AuthPolicies.Inference)]
    public override Task<ModelStatisticsResponse> ModelStatistics(ModelStatisticsRequest request, ServerCallContext context) =>
        Task.FromResult(queries.ModelStatistics(request));

    [Authorize(Policy = AuthPolicies.Inference)]
    public override Task<RepositoryIndexResponse> RepositoryIndex(RepositoryIndexRequest request, ServerCallContext context) =>
        Task.FromResult(queries.RepositoryIndex(request));

    [Authorize(Policy = AuthPolicies.Admin)]
    public override async Task<RepositoryModelLoadResponse> RepositoryModelLoad(RepositoryModelLoadRequest request, ServerCallContext context)
    {
        await repository.LoadAsync(request, context.CancellationToken);
        return new RepositoryModelLoadResponse();
    }

    [Authorize(Policy = AuthPolicies.Admin)]
    public override async Task<RepositoryModelUnloadResponse> RepositoryModelUnload(RepositoryModelUnloadRequest request, ServerCallContext context)
    {
        await repository.UnloadAsync(request, context.CancellationToken);
        return new RepositoryModelUnloadResponse();
    }

    // No region can be registered, so the status of every region is an empty list.
    [Authorize(Policy = AuthPolicies.Inference)]
    public override Task<SystemSharedMemoryStatusResponse> SystemSharedMemoryStatus(SystemSharedMemoryStatusRequest request, ServerCallContext context) =>
        Task.FromResult(new SystemSharedMemoryStatusResponse());

    [Authorize(Policy = AuthPolicies.Inference)]
    public override Task<CudaSharedMemoryStatusResponse> CudaSharedMemoryStatus(CudaSharedMemoryStatusRequest request, ServerCallContext context) =>
        Task.FromResult(new CudaSharedMemoryStatusResponse());

    [Authorize(Policy = AuthPolicies.Inference)]
    public override Task<SystemSharedMemoryRegisterResponse> SystemSharedMemoryRegister(SystemSharedMemoryRegisterRequest request, ServerCallContext context) =>
        throw Unimplemented(NoSharedMemory);

    [Authorize(Policy = AuthPolicies.Inference)]
    public override Task<SystemSharedMemoryUnregisterResponse> SystemSharedMemoryUnregister(SystemSharedMemoryUnregisterRequest request, ServerCallContext context) =>
        throw Unimplemented(NoSharedMemory);

    [Authorize(Policy = AuthPolicies.Inference)]
    public override Task<CudaSharedMemoryRegisterResponse> CudaSharedMemoryRegister(CudaSharedMemoryRegisterRequest request, ServerCallContext context) =>
        throw Unimplemented(NoSharedMemory);

    [Authorize(Policy = AuthPolicies.Inference)]
    public override Task<CudaSharedMemoryUnregisterResponse> CudaSharedMemoryUnregister(CudaSharedMemoryUnregisterRequest request, ServerCallContext context) =>
        throw Unimplemented(NoSharedMemory);

    [Authorize(Policy = AuthPolicies.Admin)]
    public override Task<TraceSettingResponse> TraceSetting(TraceSettingRequest request, ServerCallContext context) =>
        throw Unimplemented("trace settings cannot be changed at run time; tracing is set by OpenTelemetry's configuration (docs/configuration.md)");

    [Authorize(Policy = AuthPolicies.Admin)]
    public override Task<LogSettingsResponse> LogSettings(LogSettingsRequest request, ServerCallContext context) =>
        throw Unimplemented("log settings cannot be changed at run time; logging is set by MaaS:Logging (docs/configuration.md)");

    private static RpcException Unimplemented(string message) => new(new Status(StatusCode.Unimplemented, message));
}
