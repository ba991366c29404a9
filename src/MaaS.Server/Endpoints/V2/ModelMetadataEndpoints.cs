using System.Globalization;
using System.Text.Json.Nodes;
using MaaS.Core.Config;
using MaaS.Core.Pipelines;
using MaaS.Core.Registry;
using MaaS.Core.Tensors;
using MaaS.Server.Hosting;
using Microsoft.AspNetCore.Http.HttpResults;

namespace MaaS.Server.Endpoints.V2;

internal static class ModelMetadataEndpoints
{
    public static RouteGroupBuilder MapModelMetadata(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/v2/models/{modelName}").WithTags("Models (V2)").RequireInferenceKey(routes);
        foreach (var prefix in ModelVersionRoute.Prefixes)
        {
            group.MapGet(prefix, GetMetadataAsync).WithSummary("Model metadata: versions, platform, inputs and outputs (shape -1 = any size).")
                .Produces<ErrorResponse>(StatusCodes.Status404NotFound);
            group.MapGet(prefix + "/ready", GetReady).WithSummary("200 when the model (version) can serve, 400 when not ready, 404 when unknown.");
            group.MapGet(prefix + "/config", GetConfigAsync).WithSummary("The effective config.json, with what was inferred from the ONNX file filled in.")
                .Produces<ErrorResponse>(StatusCodes.Status404NotFound);
        }

        return group;
    }

    private static async Task<Ok<ModelMetadataResponse>> GetMetadataAsync(
        string modelName, ModelVersionRoute modelVersion, ModelRegistry registry, LoadedModelCache cache, CancellationToken cancellationToken) =>
        TypedResults.Ok(await DescribeAsync(modelName, modelVersion, registry, cache, cancellationToken));

    /// <summary>The metadata of the addressed version (or the latest); gRPC's ModelMetadata answers the same.</summary>
    internal static async Task<ModelMetadataResponse> DescribeAsync(
        string modelName, ModelVersionRoute modelVersion, ModelRegistry registry, LoadedModelCache cache, CancellationToken cancellationToken)
    {
        // A pipeline model shows its own inputs and outputs, and the versions of the model it runs.
        var pipeline = PipelineOf(registry, modelName);
        var served = pipeline?.InnerModel ?? modelName;
        using var lease = await modelVersion.AcquireAsync(cache, served, cancellationToken);
        var model = lease.Model;
        var signature = pipeline is null ? model.Signature : PipelineCatalog.SignatureFor(pipeline, model.Signature);
        var versions = modelVersion.Number is null && modelVersion.Label is null
            ? registry.GetModel(served).ReadyVersions.Select(v => v.Number.ToString(CultureInfo.InvariantCulture)).ToList()
            : [lease.VersionNumber.ToString(CultureInfo.InvariantCulture)];
        return new ModelMetadataResponse(
            modelName,
            versions,
            ModelConfigJson.Platform,
            signature.Inputs.Select(spec => new TensorMetadata(spec.Name, spec.DataType.ToProtocolName(), signature.ProtocolShape(spec))).ToList(),
            signature.Outputs.Select(spec => new TensorMetadata(spec.Name, spec.DataType.ToProtocolName(), signature.ProtocolShape(spec))).ToList(),
            model.ExecutionProvider);
    }

    private static Results<Ok, JsonHttpResult<ErrorResponse>> GetReady(string modelName, ModelVersionRoute modelVersion, ModelRegistry registry)
    {
        return IsReady(modelName, modelVersion, registry)
            ? TypedResults.Ok()
            : TypedResults.Json(new ErrorResponse("Model version not ready"), MaaSJsonContext.Error, statusCode: StatusCodes.Status400BadRequest);
    }

    /// <summary>True when the addressed version (or the latest) can serve; 404 when the model or version is unknown.</summary>
    internal static bool IsReady(string modelName, ModelVersionRoute modelVersion, ModelRegistry registry)
    {
        modelName = PipelineOf(registry, modelName)?.InnerModel ?? modelName;
        var model = registry.GetModel(modelName);
        var version = modelVersion.Resolve(registry, modelName);
        return version is null ? model.Latest is not null : registry.GetVersion(modelName, version).IsRoutable;
    }

    private static PipelineConfig? PipelineOf(ModelRegistry registry, string modelName) =>
        registry.TryGetModel(modelName, out var model) ? model.Directory.Config?.Pipeline : null;

    private static async Task<Ok<JsonObject>> GetConfigAsync(
        string modelName, ModelVersionRoute modelVersion, ModelRegistry registry, LoadedModelCache cache, CancellationToken cancellationToken) =>
        TypedResults.Ok(await ConfigAsync(modelName, modelVersion, registry, cache, cancellationToken));

    /// <summary>The effective config of the addressed version (or the latest); gRPC's ModelConfig answers the same.</summary>
    internal static async Task<JsonObject> ConfigAsync(
        string modelName, ModelVersionRoute modelVersion, ModelRegistry registry, LoadedModelCache cache, CancellationToken cancellationToken)
    {
        if (PipelineOf(registry, modelName) is { InnerModel: { } innerName } pipeline)
        {
            // The route's version addresses the inner model's, as inference on the pipeline does.
            using var inner = await modelVersion.AcquireAsync(cache, innerName, cancellationToken);
            return ModelConfigJson.BuildPipeline(registry.GetModel(modelName).Directory, pipeline, PipelineCatalog.SignatureFor(pipeline, inner.Model.Signature));
        }

        using var lease = await modelVersion.AcquireAsync(cache, modelName, cancellationToken);
        var model = registry.GetModel(modelName);
        return ModelConfigJson.Build(model.Directory, lease.Model.Signature, lease.Model.InstanceCount);
    }
}
