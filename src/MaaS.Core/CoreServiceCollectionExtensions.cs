using MaaS.Core.Optimization;
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
        services.TryAddSingleton(_ => CpuBudget.FromEnvironment());
        services.TryAddSingleton<OnnxModelLoader>();
        services.TryAddSingleton<ModelRegistry>();
        services.TryAddSingleton<Pipelines.PipelineCatalog>();
        services.TryAddSingleton<IModelStore, DiskModelStore>();
        services.TryAddSingleton<ModelLocks>();
        services.TryAddSingleton<VersionLoader>();
        services.TryAddSingleton(provider => new LoadedModelCache(
            provider.GetRequiredService<ModelRegistry>(),
            provider.GetRequiredService<VersionLoader>(),
            provider.GetRequiredService<ModelLocks>(),
            provider.GetRequiredService<IOptions<SessionsOptions>>(),
            provider.GetRequiredService<TimeProvider>(),
            provider.GetRequiredService<ILogger<LoadedModelCache>>()));
        services.TryAddSingleton(provider => new ModelManager(
            provider.GetRequiredService<IModelStore>(),
            provider.GetRequiredService<VersionLoader>(),
            provider.GetRequiredService<ModelRegistry>(),
            provider.GetRequiredService<ModelLocks>(),
            provider.GetRequiredService<LoadedModelCache>(),
            provider.GetRequiredService<ILogger<ModelManager>>()));
        // Optimisation methods (POST /v2/repository/models/{m}/versions/{v}/optimize): one IModelTransform per method,
        // all registered here.
        services.AddSingleton<IModelTransform, GraphTransform>();
        services.AddSingleton<IModelTransform, Int8Transform>();
        services.AddSingleton<IModelTransform, Fp16Transform>();
        services.TryAddSingleton(provider => new ModelOptimizer(
            provider.GetServices<IModelTransform>(),
            provider.GetRequiredService<ModelRegistry>(),
            provider.GetRequiredService<LoadedModelCache>(),
            provider.GetRequiredService<ModelManager>(),
            provider.GetRequiredService<CpuBudget>(),
            provider.GetRequiredService<ILogger<ModelOptimizer>>()));
        services.TryAddSingleton(provider => new RepositoryView(provider.GetRequiredService<ModelRegistry>(), provider.GetRequiredService<IModelStore>()));
        services.AddSingleton<RepositoryLoader>();
        services.AddHostedService(provider => provider.GetRequiredService<RepositoryLoader>());
        services.AddSingleton<RepositoryPoller>();
        services.AddHostedService(provider => provider.GetRequiredService<RepositoryPoller>());
        return services;
    }
}
