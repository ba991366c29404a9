using System.Collections.Concurrent;

namespace MaaS.Server.Hosting;

/// <summary>
/// Keeps one logger per category over Serilog's <c>SerilogLoggerFactory</c>, which builds a new logger (and its
/// event-id cache) on every <see cref="CreateLogger"/>. ASP.NET Core creates an authentication handler, and so asks for
/// its logger, on every request: measured on the mlp at c=16, those loggers were about 5% of the bytes a request
/// allocated. Categories are type names, so the cache holds a few dozen entries at most. The hosting layer's own
/// category gets a <see cref="HostingDiagnosticsLogger"/>, which keeps it from starting an activity and a scope per request.
/// </summary>
internal sealed class CachingLoggerFactory(ILoggerFactory inner, bool ownsInner) : ILoggerFactory
{
    private readonly ConcurrentDictionary<string, ILogger> _loggers = new(StringComparer.Ordinal);

    public ILogger CreateLogger(string categoryName) =>
        _loggers.GetOrAdd(categoryName, static (name, factory) => name == HostingDiagnosticsLogger.Category
            ? new HostingDiagnosticsLogger(factory.CreateLogger(name))
            : factory.CreateLogger(name), inner);

    public void AddProvider(ILoggerProvider provider) => inner.AddProvider(provider);

    public void Dispose()
    {
        if (ownsInner)
        {
            inner.Dispose();
        }
    }

    /// <summary>Wraps the <see cref="ILoggerFactory"/> registered last in <paramref name="services"/>, which must be a singleton.</summary>
    public static void Decorate(IServiceCollection services)
    {
        var registered = services.Last(descriptor => descriptor.ServiceType == typeof(ILoggerFactory));
        if (registered.Lifetime != ServiceLifetime.Singleton || registered.IsKeyedService)
        {
            throw new InvalidOperationException($"the ILoggerFactory is registered as {registered.Lifetime}; expected a singleton");
        }

        services.Remove(registered);
        // An instance registered as such belongs to whoever registered it; one the container built is ours to dispose.
        services.AddSingleton<ILoggerFactory>(provider => registered switch
        {
            { ImplementationInstance: ILoggerFactory instance } => new CachingLoggerFactory(instance, ownsInner: false),
            { ImplementationFactory: { } factory } => new CachingLoggerFactory((ILoggerFactory)factory(provider), ownsInner: true),
            _ => new CachingLoggerFactory((ILoggerFactory)ActivatorUtilities.CreateInstance(provider, registered.ImplementationType!), ownsInner: true),
        });
    }
}
