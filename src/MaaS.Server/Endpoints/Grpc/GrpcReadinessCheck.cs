using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace MaaS.Server.Endpoints.Grpc;

/// <summary>grpc.health.v1.Health answers SERVING when the server is ready (as /v2/health/ready), NOT_SERVING otherwise.</summary>
internal sealed class GrpcReadinessCheck(GrpcQueries queries) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(queries.ServerReady ? HealthCheckResult.Healthy("ready") : HealthCheckResult.Unhealthy("not ready"));
}
