using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace MaaS.Core.Explain;

public static class ExplainServiceCollectionExtensions
{
    /// <summary>Registers the <see cref="Explainer"/> and its validated <c>MaaS:Explain</c> options.</summary>
    public static IServiceCollection AddMaaSExplain(this IServiceCollection services)
    {
        services.AddOptions<ExplainOptions>().BindConfiguration(ExplainOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton<Explainer>();
        return services;
    }
}
