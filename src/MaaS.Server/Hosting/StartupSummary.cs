using MaaS.Core;
using MaaS.Core.Registry;
using MaaS.Core.Sessions;
using Microsoft.Extensions.Options;

namespace MaaS.Server.Hosting;

/// <summary>One log line, once the server listens, with what an operator checks first.</summary>
internal static partial class StartupSummary
{
    public static WebApplication LogStartupSummary(this WebApplication app)
    {
        app.Lifetime.ApplicationStarted.Register(() =>
        {
            var options = app.Services.GetRequiredService<IOptions<MaaSOptions>>().Value;
            var sessions = app.Services.GetRequiredService<IOptions<SessionsOptions>>().Value;
            var limits = app.Services.GetRequiredService<IOptions<LimitsOptions>>().Value;
            var provider = app.Services.GetRequiredService<IExecutionProviderFactory>();
            var repository = app.Services.GetRequiredService<RepositoryView>();
            var auth = app.Services.GetRequiredService<ApiKeyStore>().Enabled ? "API keys" : "open inference, loopback-only management";
            Log.Summary(
                app.Logger, repository.Root, repository.ModelCount, provider.Name, provider.FallbackReason ?? "-", sessions.InstanceCount, Environment.ProcessorCount,
                sessions.MaxLoadedVersions, limits.MaxRequestBodyBytes, limits.MaxModelBytes, options.RepositoryPollSeconds, auth);
        });
        return app;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 2020, Level = LogLevel.Information,
            Message = "MaaS serving repository {Repository} ({ModelCount} models) on {Provider} (fallback: {Fallback}); instances per version {Instances} over {Cpus} CPUs, max loaded versions {MaxLoaded} (0 = no limit), max body {MaxBodyBytes} B, max model {MaxModelBytes} B, poll {PollSeconds} s, auth: {AuthMode}")]
        public static partial void Summary(
            ILogger logger, string repository, int modelCount, string provider, string fallback, string instances, int cpus, int maxLoaded,
            long maxBodyBytes, long maxModelBytes, int pollSeconds, string authMode);
    }
}
