using System.Globalization;
using System.Text.Json.Nodes;
using MaaS.Core;
using MaaS.Core.Registry;
using MaaS.Server.Hosting;
using MaaS.Server.Hosting.Metrics;
using Microsoft.AspNetCore.Http.HttpResults;

namespace MaaS.Server.Endpoints.V2;

/// <summary>
/// Triton's statistics extension, with every field its schema has (perf_analyzer reads them all), and one of ours:
/// <c>explain_stats</c>, the version's explanations (docs/explain.md). JSON readers of Triton's schema (tritonclient,
/// perf_analyzer) skip a field they do not know; gRPC's ModelStatistics has no place for it and leaves it out.
/// </summary>
internal static class StatisticsEndpoints
{
    public static RouteGroupBuilder MapStatistics(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/v2/models").WithTags("Statistics (V2)").RequireInferenceKey(routes);
        group.MapGet("/stats", GetAll).WithSummary("Statistics of every model version that can serve.");
        foreach (var prefix in ModelVersionRoute.Prefixes)
        {
            group.MapGet("/{modelName}" + prefix + "/stats", GetModel)
                .WithSummary("Statistics of the model's versions (or the one addressed): counts and cumulative ns per stage, per batch size.")
                .Produces<ErrorResponse>(StatusCodes.Status400BadRequest);
        }

        return group;
    }

    private static Ok<JsonObject> GetAll(ModelRegistry registry, InferenceStatistics statistics) =>
        TypedResults.Ok(Collect(registry, statistics, null, null));

    private static Ok<JsonObject> GetModel(string modelName, ModelVersionRoute modelVersion, ModelRegistry registry, InferenceStatistics statistics) =>
        TypedResults.Ok(Collect(registry, statistics, modelName, modelVersion));

    /// <summary>The statistics of every model (<paramref name="modelName"/> null), or of one model's versions (or the one addressed); gRPC's ModelStatistics answers the same.</summary>
    internal static JsonObject Collect(ModelRegistry registry, InferenceStatistics statistics, string? modelName, ModelVersionRoute? modelVersion)
    {
        if (modelName is null)
        {
            return Response(registry.Models.SelectMany(model => ServingVersions(registry, model).Select(number => (model.Name, number))), statistics);
        }

        // Triton answers an unknown model here with INVALID_ARG (400), not 404.
        if (!registry.TryGetModel(modelName, out var model))
        {
            throw ServingException.Invalid($"requested model '{modelName}' is not available");
        }

        // A pipeline model's versions are its inner model's, which its routes address (docs/pipelines.md).
        var versionsOf = InferenceStatistics.VersionSource(registry, model) ?? model;
        var version = modelVersion?.Resolve(registry, versionsOf.Name);
        if (version is not null && !versionsOf.Versions.ContainsKey(version.Value))
        {
            throw ServingException.Invalid($"requested model '{modelName}' version {version} is not available");
        }

        var versions = version is null ? ServingVersions(registry, model) : [version.Value];
        return Response(versions.Select(number => (modelName, number)), statistics);
    }

    private static IEnumerable<long> ServingVersions(ModelRegistry registry, RegisteredModel model) =>
        InferenceStatistics.VersionSource(registry, model)?.ReadyVersions.Select(v => v.Number) ?? [];

    private static JsonObject Response(IEnumerable<(string Model, long Version)> versions, InferenceStatistics statistics)
    {
        var entries = new JsonArray();
        foreach (var (model, version) in versions)
        {
            entries.Add(Entry(model, version, statistics.For(model, version)));
        }

        return new JsonObject { ["model_stats"] = entries };
    }

    private static JsonObject Entry(string model, long version, VersionStatistics stats)
    {
        var batches = new JsonArray();
        foreach (var (size, batch) in stats.Batches.OrderBy(pair => pair.Key))
        {
            batches.Add(new JsonObject
            {
                ["batch_size"] = size,
                ["compute_input"] = Duration(batch.Input),
                ["compute_infer"] = Duration(batch.Infer),
                ["compute_output"] = Duration(batch.Output),
            });
        }

        return new JsonObject
        {
            ["name"] = model,
            ["version"] = version.ToString(CultureInfo.InvariantCulture),
            ["last_inference"] = stats.LastInferenceMs,
            ["inference_count"] = stats.InferenceCount,
            ["execution_count"] = stats.ExecutionCount,
            ["inference_stats"] = new JsonObject
            {
                ["success"] = Duration(stats.Success),
                ["fail"] = Duration(stats.Fail),
                ["queue"] = Duration(stats.Queue),
                ["compute_input"] = Duration(stats.ComputeInput),
                ["compute_infer"] = Duration(stats.ComputeInfer),
                ["compute_output"] = Duration(stats.ComputeOutput),
                ["cache_hit"] = Duration(null),
                ["cache_miss"] = Duration(null),
            },
            ["response_stats"] = new JsonObject(),
            ["batch_stats"] = batches,
            ["memory_usage"] = new JsonArray(),
            ["explain_stats"] = new JsonObject
            {
                ["success"] = Duration(stats.ExplainSuccess),
                ["fail"] = Duration(stats.ExplainFail),
                ["evaluation_count"] = stats.ExplainEvaluations,
            },
        };
    }

    private static JsonObject Duration(DurationStat? stat) =>
        new() { ["count"] = stat?.Count ?? 0, ["ns"] = stat?.Nanoseconds ?? 0 };
}
