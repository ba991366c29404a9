using System.Collections.Concurrent;
using MaaS.Core.Inference;
using MaaS.Core.Sessions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MaaS.Core.Registry;

/// <summary>
/// The loaded-model cache. Requests acquire versions through it: an evicted version is loaded again on demand (one load
/// however many requests wait for it, bounded by <c>MaaS:Sessions:LoadTimeoutSeconds</c>). With
/// <c>MaxLoadedVersions</c> or <c>MemoryBudgetBytes</c>, the least recently used idle version goes when a load goes over
/// budget (labelled and pinned versions never do). Both happen under the model's own lock, the writer's: an eviction
/// only try-locks and skips a model that is being changed, so it never races a publish.
/// </summary>
public sealed partial class LoadedModelCache : IAsyncDisposable
{
    private readonly ConcurrentDictionary<(string Model, long Version), Task> _reloads = new();
    private readonly ModelRegistry _registry;
    private readonly VersionLoader _loader;
    private readonly ModelLocks _locks;
    private readonly SessionsOptions _sessions;
    private readonly TimeProvider _time;
    private readonly ILogger<LoadedModelCache> _logger;
    private readonly Lock _enforcing = new();
    private volatile bool _stopping;
    private long _evictions;

    internal LoadedModelCache(
        ModelRegistry registry, VersionLoader loader, ModelLocks locks, IOptions<SessionsOptions> sessions, TimeProvider time, ILogger<LoadedModelCache> logger)
    {
        _registry = registry;
        _loader = loader;
        _locks = locks;
        _sessions = sessions.Value;
        _time = time;
        _logger = logger;
    }

    /// <summary>Versions loaded since start (startup, changes, and reloads of evicted versions).</summary>
    public long Loads => _loader.Loads;

    /// <summary>Versions evicted to stay within the budget since start.</summary>
    public long Evictions => Interlocked.Read(ref _evictions);

    /// <summary>Reloads of evicted versions running right now.</summary>
    public int ReloadsInProgress => _reloads.Count;

    /// <summary>Bytes the loaded versions took when they loaded.</summary>
    public long LoadedBytes => _registry.LoadedVersions.Sum(loaded => loaded.Version.Model?.FootprintBytes ?? 0);

    /// <summary>
    /// Leases the version a request addresses (a number, a label, or the latest), loading it again first when it was
    /// evicted. 404 when unknown (also when an evicted version's file was deleted meanwhile), 503 when it cannot serve
    /// or its load outlasts the timeout.
    /// </summary>
    public async Task<VersionLease> AcquireAsync(string name, long? version, string? label, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < 4; attempt++)
        {
            var lease = _registry.TryAcquire(name, version, label, out var evicted);
            if (lease is not null)
            {
                if (attempt > 0)
                {
                    // The reload may have gone over budget; the version this request holds is busy, so it stays.
                    EnforceBudget();
                }

                return lease;
            }

            await ReloadAsync(name, evicted!.Number, cancellationToken);
        }

        throw new ServingException(FailureKind.NotReady, $"model '{name}' is evicted again as soon as it loads: the loaded-model budget is too small for the traffic; retry");
    }

    /// <summary>
    /// The version a request addresses and its signature, without leasing or loading it (an evicted version keeps the
    /// signature it had), so a request body can be checked before anything is loaded again. The same 404 and 503 as
    /// <see cref="AcquireAsync"/>; the version may still move on before it is acquired.
    /// </summary>
    public (long Number, ModelSignature Signature) Resolve(string name, long? version, string? label)
    {
        var found = _registry.Find(name, version, label);
        return found.Signature is { } signature && (found.IsEvicted || found.State == ModelVersionState.Ready)
            ? (found.Number, signature)
            : throw ModelRegistry.NotReady(name, found);
    }

    /// <summary>
    /// Evicts least recently used idle versions until the loaded ones fit the budget. A model whose lock is held (being
    /// changed, or reloading) is skipped, not waited for: this runs on request paths and after every publish.
    /// </summary>
    public void EnforceBudget()
    {
        if (_sessions.MaxLoadedVersions == 0 && _sessions.MemoryBudgetBytes == 0)
        {
            return;
        }

        // One pass at a time: a second caller's pass would count the same versions and evict more than needed.
        if (!_enforcing.TryEnter())
        {
            return;
        }

        try
        {
            EvictOverBudget();
        }
        finally
        {
            _enforcing.Exit();
        }
    }

    private void EvictOverBudget()
    {
        var loaded = _registry.LoadedVersions.ToList();
        var count = loaded.Count;
        var bytes = loaded.Sum(entry => entry.Version.Model!.FootprintBytes);
        foreach (var (model, version) in loaded.Where(entry => Evictable(entry.Model, entry.Version)).OrderBy(entry => entry.Version.LastUsed))
        {
            if (WithinBudget(count, bytes))
            {
                return;
            }

            using var held = _locks.TryLock(model.Name);
            if (held is null)
            {
                continue;
            }

            var footprint = version.Model!.FootprintBytes;
            if (version.IsIdle && _registry.TryReplaceVersion(model.Name, version, ModelVersion.Evicted(version.Number, version.File, version.Model.Signature)))
            {
                count--;
                bytes -= footprint;
                Interlocked.Increment(ref _evictions);
                Log.VersionEvicted(_logger, model.Name, version.Number, footprint);
            }
        }
    }

    private bool WithinBudget(int count, long bytes) =>
        (_sessions.MaxLoadedVersions == 0 || count <= _sessions.MaxLoadedVersions)
        && (_sessions.MemoryBudgetBytes == 0 || bytes <= _sessions.MemoryBudgetBytes);

    private static bool Evictable(RegisteredModel model, ModelVersion version) =>
        !model.Pinned && !model.Directory.Labels.Values.Contains(version.Number) && version.IsIdle;

    private async Task ReloadAsync(string name, long number, CancellationToken cancellationToken)
    {
        if (_stopping)
        {
            throw new ServingException(FailureKind.NotReady, $"model '{name}' version {number} is evicted and the server is shutting down");
        }

        // One load per evicted version, however many requests wait for it: the first caller starts it.
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var reload = _reloads.GetOrAdd((name, number), started.Task);
        if (ReferenceEquals(reload, started.Task))
        {
            _ = Task.Run(() => RunReloadAsync(name, number, started), CancellationToken.None);
        }

        var timeout = TimeSpan.FromSeconds(_sessions.LoadTimeoutSeconds);
        try
        {
            await reload.WaitAsync(timeout, _time, cancellationToken);
        }
        catch (TimeoutException ex)
        {
            throw new ServingException(
                FailureKind.NotReady,
                $"model '{name}' version {number} is still loading after {timeout.TotalSeconds:0} s (MaaS:Sessions:LoadTimeoutSeconds); retry",
                ex);
        }
    }

    private async Task RunReloadAsync(string name, long number, TaskCompletionSource completion)
    {
#pragma warning disable CA1031 // worker boundary: whatever the load does, every waiting request gets the outcome
        try
        {
            await ReloadCoreAsync(name, number);
            _reloads.TryRemove((name, number), out _);
            completion.TrySetResult();
        }
        catch (Exception ex)
        {
            // Out of the table before the waiters wake: a request that retries must start a new load, not see this one.
            _reloads.TryRemove((name, number), out _);
            completion.TrySetException(ex);
        }
#pragma warning restore CA1031
    }

    private async Task ReloadCoreAsync(string name, long number)
    {
        using var held = await _locks.LockAsync(name, CancellationToken.None);
        if (!_registry.TryGetModel(name, out var model) || !model.Versions.TryGetValue(number, out var current) || !current.IsEvicted)
        {
            return;
        }

        var directory = model.Directory;
        if (!File.Exists(directory.VersionFile(number)))
        {
            // The files went away while the version was evicted: take them out, so the request gets a 404 (a poll or a
            // load brings the rest of the model in line with the disk). The writer would do the same under this lock.
            if (Directory.Exists(directory.Path))
            {
                _registry.TryRemoveVersion(name, current);
            }
            else
            {
                _registry.Remove(name);
            }

            return;
        }

        var loaded = _loader.Load(directory, number, strict: false);
        if (!_registry.TryReplaceVersion(name, current, loaded))
        {
            loaded.Retire();
        }
    }

    /// <summary>Shutdown: no new reloads start, and the ones running finish before the registry disposes what is loaded.</summary>
    public async ValueTask DisposeAsync()
    {
        _stopping = true;
        // Their outcomes went to the requests that waited; here only their end matters.
        await Task.WhenAll(_reloads.Values).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1017, Level = LogLevel.Information, Message = "Model {ModelName} v{ModelVersion} evicted to stay within the loaded-model budget ({FootprintBytes} bytes freed)")]
        public static partial void VersionEvicted(ILogger logger, string modelName, long modelVersion, long footprintBytes);
    }
}
