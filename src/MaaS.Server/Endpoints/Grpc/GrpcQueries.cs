using Google.Protobuf;
using Inference;
using MaaS.Core.Registry;
using MaaS.Server.Endpoints.V2;
using ModelMetadataResponse = Inference.ModelMetadataResponse;
using ServerMetadataResponse = Inference.ServerMetadataResponse;
using MaaS.Server.Hosting.Metrics;

namespace MaaS.Server.Endpoints.Grpc;

/// <summary>
/// The read-only RPCs, answered by the same code as their HTTP routes. Config and statistics are built in Triton's JSON
/// form by that code and read into the protobuf messages (proto3 JSON: the field names are the same), so both
/// protocols always show the same values.
/// </summary>
internal sealed class GrpcQueries(
    ModelRegistry registry, LoadedModelCache cache, InferenceStatistics statistics, RepositoryView repository, IHostApplicationLifetime lifetime)
{
    // Keys the messages here leave out (labels, warmup, response_stats...) are skipped, not refused.
    private static readonly JsonParser Parser = new(JsonParser.Settings.Default.WithIgnoreUnknownFields(true));

    /// <summary>Ready once the startup models are loaded, and no longer while draining for shutdown (as /v2/health/ready).</summary>
    public bool ServerReady => !lifetime.ApplicationStopping.IsCancellationRequested && registry.IsReady;

    public bool ModelReady(ModelReadyRequest request) =>
        ModelMetadataEndpoints.IsReady(request.Name, GrpcVersion.Parse(request.Version), registry);

    public static ServerMetadataResponse ServerMetadata()
    {
        var response = new ServerMetadataResponse { Name = "maas", Version = ServerMetadataEndpoints.ServerVersion };
        response.Extensions.Add(ServerMetadataEndpoints.Extensions);
        return response;
    }

    public async Task<ModelMetadataResponse> ModelMetadataAsync(ModelMetadataRequest request, CancellationToken cancellationToken)
    {
        var metadata = await ModelMetadataEndpoints.DescribeAsync(request.Name, GrpcVersion.Parse(request.Version), registry, cache, cancellationToken);
        var response = new ModelMetadataResponse { Name = metadata.Name, Platform = metadata.Platform };
        response.Versions.Add(metadata.Versions);
        response.Inputs.Add(metadata.Inputs.Select(Tensor));
        response.Outputs.Add(metadata.Outputs.Select(Tensor));
        return response;
    }

    public async Task<ModelConfigResponse> ModelConfigAsync(ModelConfigRequest request, CancellationToken cancellationToken)
    {
        var json = await ModelMetadataEndpoints.ConfigAsync(request.Name, GrpcVersion.Parse(request.Version), registry, cache, cancellationToken);
        return new ModelConfigResponse { Config = Parser.Parse<ModelConfig>(json.ToJsonString()) };
    }

    public ModelStatisticsResponse ModelStatistics(ModelStatisticsRequest request)
    {
        var json = request.Name.Length == 0
            ? StatisticsEndpoints.Collect(registry, statistics, null, null)
            : StatisticsEndpoints.Collect(registry, statistics, request.Name, GrpcVersion.Parse(request.Version));
        return Parser.Parse<ModelStatisticsResponse>(json.ToJsonString());
    }

    public RepositoryIndexResponse RepositoryIndex(RepositoryIndexRequest request)
    {
        var response = new RepositoryIndexResponse();
        foreach (var entry in repository.Index(request.Ready))
        {
            response.Models.Add(new RepositoryIndexResponse.Types.ModelIndex
            {
                Name = entry.Name,
                Version = entry.Version ?? "",
                State = entry.State ?? "",
                Reason = entry.Reason ?? "",
            });
        }

        return response;
    }

    private static ModelMetadataResponse.Types.TensorMetadata Tensor(TensorMetadata tensor)
    {
        var metadata = new ModelMetadataResponse.Types.TensorMetadata { Name = tensor.Name, Datatype = tensor.Datatype };
        metadata.Shape.Add(tensor.Shape);
        return metadata;
    }
}
