using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace MaaS.Core.Registry;

/// <summary>
/// Loads the repository at startup, in the background so that the server answers health checks (not ready) at once.
/// A model that fails to load is UNAVAILABLE with its reason and does not stop the others.
/// </summary>
public sealed partial class RepositoryLoader(ModelManager manager, ModelRegistry registry, ILogger<RepositoryLoader> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await manager.LoadAllAsync(stoppingToken);
        registry.MarkStartupComplete();
        var readyVersions = registry.Models.Sum(m => m.ReadyVersions.Count());
        Log.StartupComplete(logger, readyVersions, registry.IsReady);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1006, Level = LogLevel.Information, Message = "Startup loading finished: {ReadyVersions} versions READY; server ready: {Ready}")]
        public static partial void StartupComplete(ILogger logger, int readyVersions, bool ready);
    }
}
