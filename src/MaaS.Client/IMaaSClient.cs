namespace MaaS.Client;

/// <summary>
/// The server's operations. <see cref="MaaSClient"/> speaks HTTP (every call); <see cref="MaaSGrpcClient"/> speaks
/// Triton's gRPC service where it has the call and HTTP for the rest (registry management, explain, embed).
/// Every failure is a <see cref="MaaSException"/>.
/// </summary>
public interface IMaaSClient
{
    Task<bool> IsLiveAsync(CancellationToken cancellationToken = default);

    Task<bool> IsReadyAsync(CancellationToken cancellationToken = default);

    Task<ServerMetadata> GetServerMetadataAsync(CancellationToken cancellationToken = default);

    Task<ModelMetadata> GetModelMetadataAsync(string model, ModelVersion version = default, CancellationToken cancellationToken = default);

    Task<bool> IsModelReadyAsync(string model, ModelVersion version = default, CancellationToken cancellationToken = default);

    /// <summary>The effective configuration, in Triton's ModelConfig JSON.</summary>
    Task<ModelConfig> GetModelConfigAsync(string model, ModelVersion version = default, CancellationToken cancellationToken = default);

    Task<IReadOnlyList<RepositoryIndexEntry>> GetRepositoryIndexAsync(bool readyOnly = false, CancellationToken cancellationToken = default);

    Task<InferResult> InferAsync(string model, IReadOnlyList<InferInput> inputs, InferOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>Statistics in Triton's shape: of every model, or of one model (version).</summary>
    Task<ModelStatisticsResponse> GetStatisticsAsync(string? model = null, ModelVersion version = default, CancellationToken cancellationToken = default);

    Task LoadModelAsync(string model, CancellationToken cancellationToken = default);

    Task UnloadModelAsync(string model, CancellationToken cancellationToken = default);

    /// <summary>The registry's view of a model: every version on disk with state, sha256, size, labels; labels; config.</summary>
    Task<ModelView> GetModelViewAsync(string model, CancellationToken cancellationToken = default);

    /// <summary>Uploads a model.onnx as a new version (the next number unless <paramref name="version"/> is given); returns once it is READY.</summary>
    Task<UploadResult> UploadVersionAsync(string model, Stream onnx, long? version = null, IProgress<long>? progress = null, CancellationToken cancellationToken = default);

    Task SetLabelAsync(string model, string label, long version, CancellationToken cancellationToken = default);

    Task RemoveLabelAsync(string model, string label, CancellationToken cancellationToken = default);

    /// <summary>Replaces config.json (or, with <paramref name="contentType"/> text/plain, config.pbtxt).</summary>
    Task ReplaceConfigAsync(string model, string config, string contentType = "application/json", CancellationToken cancellationToken = default);

    Task DeleteVersionAsync(string model, long version, CancellationToken cancellationToken = default);

    Task DeleteModelAsync(string model, CancellationToken cancellationToken = default);

    /// <summary>Embeddings of texts by a text-embedding pipeline model (<c>POST /v1/embeddings</c>), one per text in order.</summary>
    Task<EmbeddingsResult> EmbedAsync(string model, IReadOnlyList<string> texts, EmbeddingEncoding encoding = EmbeddingEncoding.Float, CancellationToken cancellationToken = default);

    /// <summary>Attributions of one output element to the input elements (<c>POST /v2/models/{m}/explain</c>).</summary>
    Task<ExplainResult> ExplainAsync(string model, IReadOnlyList<InferInput> inputs, ExplainOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>Derives an optimised version; the report (201), or a <see cref="MaaSException"/> (422 when a bound breaks, the message naming it).</summary>
    Task<OptimizeReport> OptimizeAsync(string model, long version, OptimizeRequest request, CancellationToken cancellationToken = default);
}
