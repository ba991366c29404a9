using MaaS.Core.Registry;
using MaaS.Core.Repository;
using MaaS.Core.Sessions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MaaS.Core;

public static class CoreServiceCollectionExtensions
{
    /// <summary>Registers the repository, registry, session loader and execution provider, with validated options.</summary>
    public static IServiceCollection AddMaaSCore(this IServiceCollection services)
    {
        services.AddOptions<MaaSOptions>()
            .BindConfiguration(MaaSOptions.SectionName)
            .ValidateDataAnnotations()
            .Validate(
                options => Directory.Exists(options.ModelRepository),
                $"{MaaSOptions.SectionName}:ModelRepository must name an existing directory (CLI --model-repository)")
            .ValidateOnStart();
        services.AddOptions<SessionsOptions>().BindConfiguration(SessionsOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<CudaOptions>().BindConfiguration(CudaOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<OrtRuntime>();
        services.TryAddSingleton(provider => ExecutionProviderSelection.Select(
            provider.GetRequiredService<IOptions<MaaSOptions>>(),
            provider.GetRequiredService<IOptions<CudaOptions>>(),
            provider.GetRequiredService<OrtRuntime>(),
            provider.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(ExecutionProviderSelection).FullName!)));

        // First of the hosted services: choosing the provider (and, with MaaS:Cuda:Strict, refusing to start) happens
        // before anything loads or listens.
        services.AddHostedService<ExecutionProviderStartup>();
        services.TryAddSingleton<OnnxModelLoader>();
        services.TryAddSingleton<ModelRegistry>();
        services.TryAddSingleton<IModelStore, DiskModelStore>();
        services.TryAddSingleton<ModelManager>();
        services.AddSingleton<RepositoryLoader>();
        services.AddHostedService(provider => provider.GetRequiredService<RepositoryLoader>());
        services.AddSingleton<RepositoryPoller>();
        services.AddHostedService(provider => provider.GetRequiredService<RepositoryPoller>());
        return services;
    }
}
