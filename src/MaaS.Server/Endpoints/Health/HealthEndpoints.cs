using MaaS.Core.Registry;
using MaaS.Server.Hosting;
using Microsoft.AspNetCore.Http.HttpResults;

namespace MaaS.Server.Endpoints.Health;

internal static class HealthEndpoints
{
    public static RouteGroupBuilder MapHealth(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/v2/health").WithTags("Health");
        group.MapGet("/live", GetLive).WithSummary("Liveness: 200 while the process can serve.");
        group.MapGet("/ready", GetReady)
            .WithSummary("Readiness: 200 once the models selected at startup are loaded; 503 while loading and while draining for shutdown.");
        return group;
    }

    private static Ok<HealthResponse> GetLive() => TypedResults.Ok(new HealthResponse(Live: true, Ready: null));

    private static Results<Ok<HealthResponse>, JsonHttpResult<ErrorResponse>> GetReady(ModelRegistry registry, IHostApplicationLifetime lifetime)
    {
        if (lifetime.ApplicationStopping.IsCancellationRequested)
        {
            // Shutting down: tell the load balancer at once, while requests in flight finish.
            return TypedResults.Json(
                new ErrorResponse("server is not ready: draining for shutdown"), MaaSJsonContext.Error, statusCode: StatusCodes.Status503ServiceUnavailable);
        }

        if (registry.IsReady)
        {
            return TypedResults.Ok(new HealthResponse(Live: null, Ready: true));
        }

        var reason = registry.RepositoryError
            ?? (registry.StartupComplete ? "a model selected at startup is not READY (see POST /v2/repository/index)" : "models are loading");
        return TypedResults.Json(
            new ErrorResponse($"server is not ready: {reason}"), MaaSJsonContext.Error, statusCode: StatusCodes.Status503ServiceUnavailable);
    }
}
