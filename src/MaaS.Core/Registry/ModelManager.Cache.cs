using System.Collections.Concurrent;

namespace MaaS.Core.Registry;

/// <summary>
/// The loaded-model cache: with <c>MaaS:Sessions:MaxLoadedVersions</c> or <c>MemoryBudgetBytes</c>, the least recently
/// used idle version is evicted when a load goes over budget (labelled and pinned versions never are). An evicted
/// version stays routable: the next request for it loads it again and waits (bounded by LoadTimeoutSeconds), and
/// concurrent requests for it share one load.
/// </summary>
public sealed partial class ModelManager
{
    private readonly ConcurrentDictionary<(string Model, long Version), Task> _reloads = new();
    private long _loads;
    private long _evictions;

    /// <summary>Versions loaded since start (startup, changes, and reloads of evicted versions).</summary>
    public long Loads => Interlocked.Read(ref _loads);

    /// <summary>Versions evicted to stay within the budget since start.</summary>
    public long Evictions => Interlocked.Read(ref _evictions);

    /// <summary>Bytes the loaded versions took when they loaded.</summary>
    public long LoadedBytes => registry.LoadedVersions.Sum(loaded => loaded.Version.Model?.FootprintBytes ?? 0);

    /// <summary>
    /// Leases the version a request addresses (a number, a label, or the latest), loading it again first when it was
    /// evicted. 404 when unknown (also when an evicted version's files were deleted meanwhile), 503 when it cannot
    /// serve or its load outlasts the timeout.
    /// </summary>
    public async Task<VersionLease> AcquireAsync(string name, long? version, string? label, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < 4; attempt++)
        {
            var lease = registry.TryAcquire(name, version, label, out var evicted);
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

    private async Task ReloadAsync(string name, long number, CancellationToken cancellationToken)
    {
        // One load per evicted version, however many requests wait for it: the first caller starts it.
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var reload = _reloads.GetOrAdd((name, number), started.Task);
        if (ReferenceEquals(reload, started.Task))
        {
            _ = Task.Run(() => RunReloadAsync(name, number, started), CancellationToken.None);
        }

        var timeout = TimeSpan.FromSeconds(sessions.Value.LoadTimeoutSeconds);
        try
        {
            await reload.WaitAsync(timeout, time, cancellationToken);
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
            completion.TrySetResult();
        }
        catch (Exception ex)
        {
            completion.TrySetException(ex);
        }
#pragma warning restore CA1031
    }

    private async Task ReloadCoreAsync(string name, long number)
    {
        try
        {
            using var held = await LockAsync(name, CancellationToken.None);
            if (!registry.TryGetModel(name, out var model) || !model.Versions.TryGetValue(number, out var current) || !current.IsEvicted)
            {
                return;
            }

            var directory = store.Find(name);
            if (directory is null || !directory.Versions.Contains(number))
            {
                // The files went away while it was evicted: bring the registry in line, so the request gets a 404.
                if (directory is null)
                {
                    registry.Remove(name);
                }
                else
                {
                    Publish(Prepare(directory, force: false, strict: false));
                }

                return;
            }

            var loaded = LoadVersion(directory, number, strict: false);
            if (!registry.TryReplaceVersion(name, current, loaded))
            {
                loaded.Retire();
            }
        }
        finally
        {
            _reloads.TryRemove((name, number), out _);
        }
    }

    /// <summary>Evicts least recently used idle versions until the loaded ones fit the budget.</summary>
    private void EnforceBudget()
    {
        var limits = sessions.Value;
        if (limits.MaxLoadedVersions == 0 && limits.MemoryBudgetBytes == 0)
        {
            return;
        }

        var loaded = registry.LoadedVersions.ToList();
        var count = loaded.Count;
        var bytes = loaded.Sum(entry => entry.Version.Model!.FootprintBytes);
        foreach (var (model, version) in loaded.Where(entry => Evictable(entry.Model, entry.Version)).OrderBy(entry => entry.Version.LastUsed))
        {
            if ((limits.MaxLoadedVersions == 0 || count <= limits.MaxLoadedVersions) && (limits.MemoryBudgetBytes == 0 || bytes <= limits.MemoryBudgetBytes))
            {
                return;
            }

            var footprint = version.Model!.FootprintBytes;
            if (registry.TryReplaceVersion(model.Name, version, ModelVersion.Evicted(version.Number, version.File)))
            {
                count--;
                bytes -= footprint;
                Interlocked.Increment(ref _evictions);
                Log.VersionEvicted(logger, model.Name, version.Number, footprint);
            }
        }
    }

    private static bool Evictable(RegisteredModel model, ModelVersion version) =>
        !model.Pinned && !model.Directory.Labels.Values.Contains(version.Number) && version.IsIdle;
}
