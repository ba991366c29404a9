using System.Collections.Concurrent;

namespace MaaS.Server.Hosting;

/// <summary>
/// Keeps one logger per category over Serilog's <c>SerilogLoggerFactory</c>, which builds a new logger (and its
/// event-id cache) on every <see cref="CreateLogger"/>. ASP.NET Core creates an authentication handler, and so asks for
/// its logger, on every request: measured on the mlp at c=16, those loggers were about 5% of the bytes a request
/// allocated. Categories are type names, so the cache holds a few dozen entries at most.
/// </summary>
internal sealed class CachingLoggerFactory(ILoggerFactory inner) : ILoggerFactory
{
    private readonly ConcurrentDictionary<string, ILogger> _loggers = new(StringComparer.Ordinal);

    public ILogger CreateLogger(string categoryName) =>
        _loggers.GetOrAdd(categoryName, static (name, factory) => factory.CreateLogger(name), inner);

    public void AddProvider(ILoggerProvider provider) => inner.AddProvider(provider);

    public void Dispose() => inner.Dispose();

    /// <summary>Wraps the <see cref="ILoggerFactory"/> registered last in <paramref name="services"/>, which must be a singleton.</summary>
    public static void Decorate(IServiceCollection services)
    {
        var registered = services.Last(descriptor => descriptor.ServiceType == typeof(ILoggerFactory));
        if (registered.Lifetime != ServiceLifetime.Singleton || registered.IsKeyedService)
        {
            throw new InvalidOperationException($"the ILoggerFactory is registered as {registered.Lifetime}; expected a singleton");
        }

        services.Remove(registered);
        services.AddSingleton<ILoggerFactory>(provider => new CachingLoggerFactory(registered switch
        {
            { ImplementationInstance: ILoggerFactory instance } => instance,
            { ImplementationFactory: { } factory } => (ILoggerFactory)factory(provider),
            _ => (ILoggerFactory)ActivatorUtilities.CreateInstance(provider, registered.ImplementationType!),
        }));
    }
}
