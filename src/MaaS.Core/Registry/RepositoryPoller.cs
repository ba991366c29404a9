using System.Globalization;
using System.Text;
using MaaS.Core.Repository;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MaaS.Core.Registry;

/// <summary>
/// With <c>MaaS:RepositoryPollSeconds</c> &gt; 0, rescans the repository and applies what others changed on disk
/// (another replica, a job copying files): new and removed models and versions, config edits, replaced files. A
/// model is synced only once its files have looked the same for two polls in a row, so a file still being copied
/// is not loaded half-written. Models unloaded on request are left alone until loaded again.
/// </summary>
internal sealed partial class RepositoryPoller(
    ModelManager manager, IModelStore store, ModelRegistry registry, IOptions<MaaSOptions> options, TimeProvider time, ILogger<RepositoryPoller> logger)
    : BackgroundService
{
    private readonly Dictionary<string, string> _lastSeen = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _lastSynced = new(StringComparer.Ordinal);
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource _tickHandled = new(TaskCreationOptions.RunContinuationsAsynchronously);

#pragma warning disable VSTHRD003 // signals for an observer (tests on a fake clock), completed by this worker
    /// <summary>Completes once the poll timer exists (never while polling is off): ticks of the clock from then on reach it.</summary>
    public Task Started => _started.Task;

    /// <summary>Completes when the next tick has been handled: a pass, or none while startup loading is still running.</summary>
    public Task NextTickHandled => Volatile.Read(ref _tickHandled).Task;
#pragma warning restore VSTHRD003

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var seconds = options.Value.RepositoryPollSeconds;
        if (seconds <= 0)
        {
            return;
        }

        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(seconds), time);
        _started.TrySetResult();
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            if (registry.StartupComplete)
            {
#pragma warning disable CA1031 // worker boundary: one failed pass is logged, the next tick tries again
                try
                {
                    await PollAsync(stoppingToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    Log.PollFailed(logger, ex);
                }
#pragma warning restore CA1031
            }

            Interlocked.Exchange(ref _tickHandled, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
        }
    }

    /// <summary>One pass: sync every model whose files changed and have since held still.</summary>
    public async Task PollAsync(CancellationToken cancellationToken)
    {
        IReadOnlyList<ModelDirectory> found;
        try
        {
            found = store.Scan();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Log.ScanFailed(logger, ex.Message);
            registry.RepositoryError = $"the model repository cannot be read: {ex.Message}";
            return;
        }

        registry.RepositoryError = null;

        var names = found.Select(model => model.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var model in found)
        {
            var digest = Digest(model);
            var stable = _lastSeen.TryGetValue(model.Name, out var seen) && seen == digest;
            _lastSeen[model.Name] = digest;
            var known = registry.TryGetModel(model.Name, out var current);
            if (known && current.Unloaded)
            {
                continue;
            }

            if (!_lastSynced.ContainsKey(model.Name) && known && !NeedsSync(model, current))
            {
                _lastSynced[model.Name] = digest;
            }

            if (stable && digest != _lastSynced.GetValueOrDefault(model.Name))
            {
                Log.ChangeFound(logger, model.Name);
                await manager.SyncAsync(model.Name, force: false, cancellationToken);
                _lastSynced[model.Name] = digest;
            }
        }

        foreach (var model in registry.Models.Where(model => !names.Contains(model.Name)))
        {
            Log.ChangeFound(logger, model.Name);
            await manager.SyncAsync(model.Name, force: false, cancellationToken);
            _lastSeen.Remove(model.Name);
            _lastSynced.Remove(model.Name);
        }
    }

    /// <summary>Whether the registry serves something other than what the directory now asks for.</summary>
    private static bool NeedsSync(ModelDirectory model, RegisteredModel current) =>
        model.ConfigStamp != current.Directory.ConfigStamp
        || !model.ServedVersions().SequenceEqual(current.Versions.Keys)
        || current.Versions.Values.Any(version => version.File?.IsSameFile(model.VersionFile(version.Number)) != true);

    /// <summary>The config's hash and every version file's size and time: equal digests, nothing to do.</summary>
    private static string Digest(ModelDirectory model)
    {
        var digest = new StringBuilder(model.ConfigStamp ?? model.ConfigError ?? "-");
        foreach (var version in model.Versions)
        {
            var file = new FileInfo(model.VersionFile(version));
            digest.Append(CultureInfo.InvariantCulture, $"|{version}:{file.Length}:{file.LastWriteTimeUtc.Ticks}");
        }

        return digest.ToString();
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1020, Level = LogLevel.Information, Message = "Repository poll: {ModelName} changed on disk")]
        public static partial void ChangeFound(ILogger logger, string modelName);

        [LoggerMessage(EventId = 1021, Level = LogLevel.Warning, Message = "Repository poll failed: {Reason}")]
        public static partial void ScanFailed(ILogger logger, string reason);

        [LoggerMessage(EventId = 1022, Level = LogLevel.Error, Message = "Repository poll pass failed")]
        public static partial void PollFailed(ILogger logger, Exception exception);
    }
}
