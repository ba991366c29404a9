namespace MaaS.Server.Hosting;

internal static class HostingExtensions
{
    /// <summary>Where the HTTP API listens unless --urls or ASPNETCORE_URLS says otherwise.</summary>
    public const string DefaultUrl = "http://0.0.0.0:8000";

    /// <summary>
    /// Listens on port 8000 unless --urls or ASPNETCORE_URLS says otherwise, maps --model-repository to
    /// MaaS:ModelRepository and --grpc-port to MaaS:Grpc:Port, sets Kestrel's limits (body, connections, header and keep-alive timeouts) from MaaS:Limits,
    /// and bounds inference work (<see cref="InferenceLimits"/>).
    /// </summary>
    public static WebApplicationBuilder AddMaaSHosting(this WebApplicationBuilder builder, string[] args)
    {
        builder.Configuration.AddCommandLine(
            args,
            new Dictionary<string, string> { ["--model-repository"] = "MaaS:ModelRepository", ["--grpc-port"] = "MaaS:Grpc:Port" });
        if (string.IsNullOrEmpty(builder.Configuration[WebHostDefaults.ServerUrlsKey]))
        {
            builder.WebHost.UseUrls(DefaultUrl);
        }

        builder.Services.AddOptions<LimitsOptions>()
            .BindConfiguration(LimitsOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddOptions<ShutdownOptions>()
            .Configure<IConfiguration>((shutdown, configuration) =>
            {
                shutdown.DelaySeconds = configuration.GetValue("MaaS:Shutdown:DelaySeconds", shutdown.DelaySeconds);
                shutdown.TimeoutSeconds = configuration.GetValue("MaaS:ShutdownTimeoutSeconds", shutdown.TimeoutSeconds);
            })
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<ShutdownCoordinator>();
        builder.Services.AddHostedService(provider => provider.GetRequiredService<ShutdownCoordinator>());
        builder.Services.AddOptions<HostOptions>().Configure<Microsoft.Extensions.Options.IOptions<ShutdownOptions>>((host, shutdown) =>
            host.ShutdownTimeout = TimeSpan.FromSeconds(shutdown.Value.DelaySeconds + shutdown.Value.TimeoutSeconds));
        builder.Services.AddOptions<Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions>()
            .Configure<Microsoft.Extensions.Options.IOptions<LimitsOptions>>((kestrel, options) =>
            {
                var limits = options.Value;
                kestrel.Limits.MaxRequestBodySize = limits.MaxRequestBodyBytes;
                kestrel.Limits.MaxConcurrentConnections = limits.MaxConnections;
                kestrel.Limits.RequestHeadersTimeout = TimeSpan.FromSeconds(limits.RequestHeadersTimeoutSeconds);
                kestrel.Limits.KeepAliveTimeout = TimeSpan.FromSeconds(limits.KeepAliveTimeoutSeconds);
            });
        builder.Services.AddMaaSInferenceLimits();
        return builder;
    }
}
