using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace MaaS.Core.Registry;

/// <summary>
/// Loads the repository at startup, in the background so that the server answers health checks (not ready) at once.
/// A model that fails to load is UNAVAILABLE with its reason and does not stop the others.
/// </summary>
internal sealed partial class RepositoryLoader(ModelManager manager, ModelRegistry registry, ILogger<RepositoryLoader> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await manager.LoadAllAsync(stoppingToken);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // The server keeps answering health and says why; polling or a load retries once the volume is readable.
            registry.RepositoryError = $"the model repository cannot be read: {ex.Message}";
            Log.RepositoryUnreadable(logger, ex.Message);
        }

        registry.MarkStartupComplete();
        var readyVersions = registry.Models.Sum(m => m.ReadyVersions.Count());
        Log.StartupComplete(logger, readyVersions, registry.IsReady);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1007, Level = LogLevel.Error, Message = "The model repository cannot be read: {Reason}")]
        public static partial void RepositoryUnreadable(ILogger logger, string reason);

        [LoggerMessage(EventId = 1006, Level = LogLevel.Information, Message = "Startup loading finished: {ReadyVersions} versions READY; server ready: {Ready}")]
        public static partial void StartupComplete(ILogger logger, int readyVersions, bool ready);
    }
}
