using MaaS.Core.Explain;

namespace MaaS.Server.Hosting;

internal static class EndpointServiceExtensions
{
    /// <summary>Source-generated JSON for the protocol DTOs and the OpenAPI document with examples.</summary>
    public static IServiceCollection AddMaaSEndpoints(this IServiceCollection services)
    {
        services.ConfigureHttpJsonOptions(options =>
        {
            options.SerializerOptions.TypeInfoResolverChain.Insert(0, MaaSJsonContext.Default);
            options.SerializerOptions.Encoder = MaaSJsonContext.Relaxed.Options.Encoder;
        });
        services.AddSingleton<Metrics.InferenceStatistics>();
        services.AddSingleton<Endpoints.V2.InferencePipeline>();
        services.AddSingleton<Endpoints.V2.ExplainPipeline>();
        services.AddMaaSExplain();
        services.AddSingleton<Metrics.HttpRequestMetrics>();
        services.AddEndpointsApiExplorer();
        services.AddSwaggerGen(SwaggerSetup.Configure);
        return services;
    }

    /// <summary>Counts every request by method, route template and status (outside error handling, so it sees final statuses).</summary>
    public static WebApplication UseMaaSHttpMetrics(this WebApplication app)
    {
        app.UseMiddleware<Metrics.HttpRequestMetricsMiddleware>();
        return app;
    }

    public static WebApplication UseMaaSSwagger(this WebApplication app)
    {
        // Only requests under /swagger pass through Swashbuckle's middlewares (each resolves services per request).
        app.UseWhen(context => context.Request.Path.StartsWithSegments("/swagger", StringComparison.OrdinalIgnoreCase), swagger =>
        {
            swagger.UseSwagger();
            swagger.UseSwaggerUI(options =>
            {
                options.DocumentTitle = "MaaS API";
                options.SwaggerEndpoint("/swagger/v1/swagger.json", "MaaS v1");
            });
        });
        return app;
    }
}
