using System.Globalization;
using System.Net;
using Google.Protobuf;
using Grpc.Core;
using Inference;

namespace MaaS.Client;

/// <summary>
/// The server over Triton's gRPC service (<c>inference.GRPCInferenceService</c>, port 8001): health, metadata,
/// readiness, config, inference (raw tensors, every datatype), repository index, load/unload and statistics.
/// The registry's management (upload, labels, config writes, delete, optimize) and explain and embed exist only over
/// HTTP: those calls go to <paramref name="http"/>. Failures are <see cref="MaaSException"/> with the gRPC status
/// mapped to its HTTP twin (INVALID_ARGUMENT 400, NOT_FOUND 404, UNAVAILABLE 503, ...); an unreachable server has none.
/// </summary>
public sealed class MaaSGrpcClient(CallInvoker invoker, IMaaSClient http) : IMaaSClient
{
    private static readonly JsonFormatter ConfigFormatter = new(JsonFormatter.Settings.Default.WithPreserveProtoFieldNames(true).WithFormatDefaultValues(true));

    private readonly GRPCInferenceService.GRPCInferenceServiceClient _grpc = new(invoker);

    public async Task<bool> IsLiveAsync(CancellationToken cancellationToken = default) =>
        (await CallAsync(() => _grpc.ServerLiveAsync(new ServerLiveRequest(), cancellationToken: cancellationToken)).ConfigureAwait(false)).Live;

    public async Task<bool> IsReadyAsync(CancellationToken cancellationToken = default) =>
        (await CallAsync(() => _grpc.ServerReadyAsync(new ServerReadyRequest(), cancellationToken: cancellationToken)).ConfigureAwait(false)).Ready;

    public async Task<ServerMetadata> GetServerMetadataAsync(CancellationToken cancellationToken = default)
    {
        var answer = await CallAsync(() => _grpc.ServerMetadataAsync(new ServerMetadataRequest(), cancellationToken: cancellationToken)).ConfigureAwait(false);
        return new ServerMetadata(answer.Name, answer.Version, [.. answer.Extensions], null);
    }

    public async Task<ModelMetadata> GetModelMetadataAsync(string model, ModelVersion version = default, CancellationToken cancellationToken = default)
    {
        var request = new ModelMetadataRequest { Name = Name(model), Version = VersionText(version) };
        var answer = await CallAsync(() => _grpc.ModelMetadataAsync(request, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return new ModelMetadata(
            answer.Name,
            [.. answer.Versions],
            answer.Platform,
            answer.Inputs.Select(t => new TensorMetadata(t.Name, t.Datatype, [.. t.Shape])).ToList(),
            answer.Outputs.Select(t => new TensorMetadata(t.Name, t.Datatype, [.. t.Shape])).ToList());
    }

    public async Task<bool> IsModelReadyAsync(string model, ModelVersion version = default, CancellationToken cancellationToken = default)
    {
        var request = new ModelReadyRequest { Name = Name(model), Version = VersionText(version) };
        return (await CallAsync(() => _grpc.ModelReadyAsync(request, cancellationToken: cancellationToken)).ConfigureAwait(false)).Ready;
    }

    public async Task<ModelConfig> GetModelConfigAsync(string model, ModelVersion version = default, CancellationToken cancellationToken = default)
    {
        var request = new ModelConfigRequest { Name = Name(model), Version = VersionText(version) };
        var answer = await CallAsync(() => _grpc.ModelConfigAsync(request, cancellationToken: cancellationToken)).ConfigureAwait(false);

        // Protobuf's JSON mapping with the proto's field names is Triton's ModelConfig JSON (int64 as strings, which the reader accepts).
        return System.Text.Json.JsonSerializer.Deserialize(ConfigFormatter.Format(answer.Config), ClientJsonContext.Default.ModelConfig)
            ?? throw new MaaSException(null, "the server answered an empty config");
    }

    public async Task<IReadOnlyList<RepositoryIndexEntry>> GetRepositoryIndexAsync(bool readyOnly = false, CancellationToken cancellationToken = default)
    {
        var answer = await CallAsync(() => _grpc.RepositoryIndexAsync(new RepositoryIndexRequest { Ready = readyOnly }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return answer.Models.Select(m => new RepositoryIndexEntry(m.Name, Empty(m.Version), Empty(m.State), Empty(m.Reason))).ToList();
    }

    /// <summary>
    /// Inputs go as <c>raw_input_contents</c> and outputs come back as <c>raw_output_contents</c> whatever
    /// <see cref="InferOptions.Binary"/> says (gRPC has no JSON form); outputs are spans over the response's buffers.
    /// </summary>
    public async Task<InferResult> InferAsync(string model, IReadOnlyList<InferInput> inputs, InferOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        options ??= new InferOptions();
        var request = new ModelInferRequest { ModelName = Name(model), ModelVersion = VersionText(options.Version), Id = options.Id ?? "" };
        foreach (var input in inputs)
        {
            var tensor = new ModelInferRequest.Types.InferInputTensor { Name = input.Name, Datatype = input.Datatype };
            tensor.Shape.AddRange(input.Shape);
            request.Inputs.Add(tensor);
            request.RawInputContents.Add(UnsafeByteOperations.UnsafeWrap(input.Data));
        }

        foreach (var output in options.Outputs ?? [])
        {
            var requested = new ModelInferRequest.Types.InferRequestedOutputTensor { Name = output.Name };
            if (output.Classification is { } k)
            {
                requested.Parameters["classification"] = new InferParameter { Int64Param = k };
            }

            request.Outputs.Add(requested);
        }

        var answer = await CallAsync(() => _grpc.ModelInferAsync(request, cancellationToken: cancellationToken)).ConfigureAwait(false);
        if (answer.RawOutputContents.Count != answer.Outputs.Count)
        {
            throw new MaaSException(null, $"the server answered {answer.Outputs.Count} outputs with {answer.RawOutputContents.Count} raw contents");
        }

        var outputs = new List<InferOutput>(answer.Outputs.Count);
        for (var i = 0; i < answer.Outputs.Count; i++)
        {
            var output = answer.Outputs[i];
            outputs.Add(new InferOutput(output.Name, output.Datatype, [.. output.Shape], answer.RawOutputContents[i].Memory));
        }

        return new InferResult(answer.ModelName, answer.ModelVersion, Empty(answer.Id), outputs);
    }

    public async Task<ModelStatisticsResponse> GetStatisticsAsync(string? model = null, ModelVersion version = default, CancellationToken cancellationToken = default)
    {
        if (version.Label is not null)
        {
            throw new ArgumentException("gRPC statistics name a version by number, not by label", nameof(version));
        }

        var request = new ModelStatisticsRequest { Name = model ?? "", Version = VersionText(version) };
        var answer = await CallAsync(() => _grpc.ModelStatisticsAsync(request, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return new ModelStatisticsResponse(answer.ModelStats.Select(s => new ModelStatistics(
            s.Name,
            s.Version,
            checked((long)s.LastInference),
            checked((long)s.InferenceCount),
            checked((long)s.ExecutionCount),
            new InferenceStatistics(
                Duration(s.InferenceStats?.Success), Duration(s.InferenceStats?.Fail), Duration(s.InferenceStats?.Queue),
                Duration(s.InferenceStats?.ComputeInput), Duration(s.InferenceStats?.ComputeInfer), Duration(s.InferenceStats?.ComputeOutput),
                Duration(s.InferenceStats?.CacheHit), Duration(s.InferenceStats?.CacheMiss)),
            s.BatchStats.Select(b => new BatchStatistics(checked((long)b.BatchSize), Duration(b.ComputeInput), Duration(b.ComputeInfer), Duration(b.ComputeOutput))).ToList())).ToList());
    }

    public Task LoadModelAsync(string model, CancellationToken cancellationToken = default) =>
        CallAsync(() => _grpc.RepositoryModelLoadAsync(new RepositoryModelLoadRequest { ModelName = Name(model) }, cancellationToken: cancellationToken));

    public Task UnloadModelAsync(string model, CancellationToken cancellationToken = default) =>
        CallAsync(() => _grpc.RepositoryModelUnloadAsync(new RepositoryModelUnloadRequest { ModelName = Name(model) }, cancellationToken: cancellationToken));

    // The registry's management, explanations and embeddings have no gRPC RPC: over HTTP.
    public Task<ModelView> GetModelViewAsync(string model, CancellationToken cancellationToken = default) => http.GetModelViewAsync(model, cancellationToken);

    public Task<UploadResult> UploadVersionAsync(string model, Stream onnx, long? version = null, IProgress<long>? progress = null, CancellationToken cancellationToken = default) =>
        http.UploadVersionAsync(model, onnx, version, progress, cancellationToken);

    public Task SetLabelAsync(string model, string label, long version, CancellationToken cancellationToken = default) => http.SetLabelAsync(model, label, version, cancellationToken);

    public Task RemoveLabelAsync(string model, string label, CancellationToken cancellationToken = default) => http.RemoveLabelAsync(model, label, cancellationToken);

    public Task ReplaceConfigAsync(string model, string config, string contentType = "application/json", CancellationToken cancellationToken = default) =>
        http.ReplaceConfigAsync(model, config, contentType, cancellationToken);

    public Task DeleteVersionAsync(string model, long version, CancellationToken cancellationToken = default) => http.DeleteVersionAsync(model, version, cancellationToken);

    public Task DeleteModelAsync(string model, CancellationToken cancellationToken = default) => http.DeleteModelAsync(model, cancellationToken);

    public Task<OptimizeReport> OptimizeAsync(string model, long version, OptimizeRequest request, CancellationToken cancellationToken = default) =>
        http.OptimizeAsync(model, version, request, cancellationToken);

    public Task<EmbeddingsResult> EmbedAsync(string model, IReadOnlyList<string> texts, EmbeddingEncoding encoding = EmbeddingEncoding.Float, CancellationToken cancellationToken = default) =>
        http.EmbedAsync(model, texts, encoding, cancellationToken);

    public Task<ExplainResult> ExplainAsync(string model, IReadOnlyList<InferInput> inputs, ExplainOptions? options = null, CancellationToken cancellationToken = default) =>
        http.ExplainAsync(model, inputs, options, cancellationToken);

    /// <summary>The HTTP status a gRPC status stands for (as Triton and the server map them).</summary>
    internal static HttpStatusCode ToHttpStatus(StatusCode code) => code switch
    {
        StatusCode.InvalidArgument or StatusCode.OutOfRange or StatusCode.FailedPrecondition => HttpStatusCode.BadRequest,
        StatusCode.Unauthenticated => HttpStatusCode.Unauthorized,
        StatusCode.PermissionDenied => HttpStatusCode.Forbidden,
        StatusCode.NotFound => HttpStatusCode.NotFound,
        StatusCode.AlreadyExists or StatusCode.Aborted => HttpStatusCode.Conflict,
        StatusCode.ResourceExhausted => HttpStatusCode.TooManyRequests,
        StatusCode.Unimplemented => HttpStatusCode.NotImplemented,
        StatusCode.Unavailable => HttpStatusCode.ServiceUnavailable,
        StatusCode.DeadlineExceeded => HttpStatusCode.GatewayTimeout,
        _ => HttpStatusCode.InternalServerError,
    };

    private static async Task<T> CallAsync<T>(Func<AsyncUnaryCall<T>> call)
    {
        try
        {
            using var pending = call();
            return await pending.ResponseAsync.ConfigureAwait(false);
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.Cancelled && e.InnerException is OperationCanceledException or null)
        {
            throw new OperationCanceledException(e.Status.Detail, e);
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.Unavailable && IsConnectionFailure(e.Status.DebugException))
        {
            // No answer came (the connection failed): as over HTTP, no status.
            throw new MaaSException(null, "cannot reach the server over gRPC: " + e.Status.Detail, e);
        }
        catch (RpcException e)
        {
            throw new MaaSException(ToHttpStatus(e.StatusCode), string.IsNullOrEmpty(e.Status.Detail) ? e.StatusCode.ToString() : e.Status.Detail, e);
        }
    }

    private static bool IsConnectionFailure(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is HttpRequestException or System.Net.Sockets.SocketException)
            {
                return true;
            }
        }

        return false;
    }

    private static string Name(string model)
    {
        ArgumentException.ThrowIfNullOrEmpty(model);
        return model;
    }

    /// <summary>Digits name a version, other text a label, empty the newest READY (the server's rule).</summary>
    private static string VersionText(ModelVersion version)
    {
        if (version.Label is { } label && label.All(char.IsAsciiDigit))
        {
            throw new ArgumentException($"label '{label}' is all digits, which gRPC reads as a version number: address it over HTTP", nameof(version));
        }

        return version.Number?.ToString(CultureInfo.InvariantCulture) ?? version.Label ?? "";
    }

    private static string? Empty(string value) => value.Length == 0 ? null : value;

    private static StatisticDuration Duration(Inference.StatisticDuration? duration) =>
        duration is null ? new StatisticDuration(0, 0) : new StatisticDuration(checked((long)duration.Count), checked((long)duration.Ns));
}
