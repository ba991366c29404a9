using System.Collections.Immutable;
using System.Diagnostics;
using System.Globalization;
using MaaS.Core.Repository;
using MaaS.Core.Sessions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MaaS.Core.Registry;

/// <summary>
/// Loads the repository at startup, in the background so that the server answers health checks (not ready) at once.
/// A model that fails to load is UNAVAILABLE with its reason and does not stop the others.
/// </summary>
public sealed partial class RepositoryLoader(
    ModelRegistry registry, OnnxModelLoader loader, IOptions<MaaSOptions> options, ILogger<RepositoryLoader> logger) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var root = Path.GetFullPath(options.Value.ModelRepository);
        var models = ModelRepositoryScanner.Scan(root);
        Log.Scanning(logger, root, models.Count);
        foreach (var model in models)
        {
            stoppingToken.ThrowIfCancellationRequested();
            Load(model);
        }

        registry.MarkStartupComplete();
        var readyVersions = registry.Models.Sum(m => m.ReadyVersions.Count());
        Log.StartupComplete(logger, readyVersions, registry.IsReady);
        return Task.CompletedTask;
    }

    /// <summary>Loads the versions the model's policy selects and publishes the result.</summary>
    public void Load(ModelDirectory model)
    {
        var selected = model.ConfigError is null ? model.SelectVersions() : [];
        var loading = selected.ToImmutableSortedDictionary(v => v, ModelVersion.Loading);
        registry.Set(new RegisteredModel(model, loading));
        if (model.ConfigError is not null)
        {
            Log.ModelUnavailable(logger, model.Name, model.ConfigError);
            return;
        }

        if (model.Config?.Ignored.Count > 0)
        {
            Log.IgnoredKeys(logger, model.Name, string.Join(", ", model.Config.Ignored.Keys));
        }

        var loaded = ImmutableSortedDictionary.CreateBuilder<long, ModelVersion>();
        foreach (var version in selected)
        {
            loaded[version] = LoadVersion(model, version);
        }

        registry.Set(new RegisteredModel(model, loaded.ToImmutable()));
    }

    private ModelVersion LoadVersion(ModelDirectory model, long version)
    {
        var number = version.ToString(CultureInfo.InvariantCulture);
        var started = Stopwatch.GetTimestamp();
        try
        {
            var onnx = loader.Load(model, version);
            var elapsedMs = (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            Log.VersionLoaded(logger, model.Name, number, onnx.ExecutionProvider, elapsedMs);
            return ModelVersion.Ready(version, onnx);
        }
        catch (ModelConfigException ex)
        {
            Log.VersionFailed(logger, model.Name, number, ex.Message);
            return ModelVersion.Unavailable(version, ex.Message);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "Scanning model repository {Repository}: {ModelCount} models")]
        public static partial void Scanning(ILogger logger, string repository, int modelCount);

        [LoggerMessage(EventId = 1002, Level = LogLevel.Information, Message = "Loaded {ModelName} v{ModelVersion} on {Provider} in {ElapsedMs} ms")]
        public static partial void VersionLoaded(ILogger logger, string modelName, string modelVersion, string provider, long elapsedMs);

        [LoggerMessage(EventId = 1003, Level = LogLevel.Error, Message = "Model {ModelName} v{ModelVersion} is UNAVAILABLE: {Reason}")]
        public static partial void VersionFailed(ILogger logger, string modelName, string modelVersion, string reason);

        [LoggerMessage(EventId = 1004, Level = LogLevel.Error, Message = "Model {ModelName} is UNAVAILABLE: {Reason}")]
        public static partial void ModelUnavailable(ILogger logger, string modelName, string reason);

        [LoggerMessage(EventId = 1005, Level = LogLevel.Warning, Message = "Model {ModelName}: config keys accepted but not applied: {Keys}")]
        public static partial void IgnoredKeys(ILogger logger, string modelName, string keys);

        [LoggerMessage(EventId = 1006, Level = LogLevel.Information, Message = "Startup loading finished: {ReadyVersions} versions READY; server ready: {Ready}")]
        public static partial void StartupComplete(ILogger logger, int readyVersions, bool ready);
    }
}
