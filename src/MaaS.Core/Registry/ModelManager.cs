using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Diagnostics;
using System.Globalization;
using MaaS.Core.Repository;
using MaaS.Core.Sessions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MaaS.Core.Registry;

/// <summary>
/// Changes what is served, always the same way: work out the versions a model directory asks for, load the ones not
/// already loaded beside those serving, then publish the new set in one swap (old sessions go when their last
/// request ends). Calls on one model are serialised; calls on different models run in parallel. The disk is the
/// source of truth: management calls write to the repository first (or validate, write, then publish), so a
/// restart or another replica sees the same registry.
/// </summary>
public sealed partial class ModelManager(
    IModelStore store, OnnxModelLoader loader, ModelRegistry registry, IOptions<SessionsOptions> sessions, TimeProvider time, ILogger<ModelManager> logger)
    : IDisposable
{
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _locks = new(StringComparer.Ordinal);

    public IModelStore Store => store;

    /// <summary>Loads every model of the repository (startup); failures leave the model UNAVAILABLE with the reason.</summary>
    public async Task LoadAllAsync(CancellationToken cancellationToken)
    {
        var models = store.Scan();
        Log.Scanning(logger, store.Root, models.Count);
        foreach (var model in models)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var placeholders = model.ConfigError is null ? model.ServedVersions() : [];
            registry.Set(new RegisteredModel(model, placeholders.ToImmutableSortedDictionary(v => v, ModelVersion.Loading)));
        }

        foreach (var model in models)
        {
            await SyncAsync(model.Name, force: false, cancellationToken);
        }
    }

    /// <summary>
    /// Brings one model in line with its directory on disk (a poll, an explicit load): reloads versions whose file or
    /// config changed (all of them when <paramref name="force"/>), loads new ones, retires the rest. Never throws for
    /// a model that fails to load: it is published UNAVAILABLE with the reason.
    /// </summary>
    public async Task SyncAsync(string name, bool force, CancellationToken cancellationToken)
    {
        using var held = await LockAsync(name, cancellationToken);
        var directory = store.Find(name);
        if (directory is null)
        {
            registry.Remove(name);
            Log.ModelRemoved(logger, name);
            return;
        }

        Publish(Prepare(directory, force, strict: false));
    }

    /// <summary>
    /// Builds the versions <paramref name="directory"/> asks for, reusing loaded ones when their file and config did
    /// not change. With <paramref name="strict"/>, a version that fails to load aborts the whole change (400) and
    /// nothing new stays loaded; otherwise it becomes UNAVAILABLE with the reason.
    /// </summary>
    private PreparedModel Prepare(ModelDirectory directory, bool force, bool strict)
    {
        registry.TryGetModel(directory.Name, out var current);
        if (directory.ConfigError is not null)
        {
            if (strict)
            {
                throw ServingException.Invalid(directory.ConfigError);
            }

            // A broken config.json on disk: keep serving what was loaded from the last good one, and say why.
            Log.ModelUnavailable(logger, directory.Name, directory.ConfigError);
            var kept = current?.Versions.Where(pair => pair.Value.State != ModelVersionState.Loading) ?? [];
            return new PreparedModel(directory, ImmutableSortedDictionary.CreateRange(kept), []);
        }

        if (directory.Config?.Ignored.Count > 0 && current?.Directory.ConfigStamp != directory.ConfigStamp)
        {
            var keys = string.Join(", ", directory.Config.Ignored.Keys);
            Log.IgnoredKeys(logger, directory.Name, keys);
        }

        var configChanged = force || current is null || current.Unloaded || current.Directory.ConfigStamp != directory.ConfigStamp;
        var versions = ImmutableSortedDictionary.CreateBuilder<long, ModelVersion>();
        var loaded = new List<ModelVersion>();
        try
        {
            foreach (var number in directory.ServedVersions())
            {
                var file = directory.VersionFile(number);
                if (!configChanged && current!.Versions.TryGetValue(number, out var existing)
                    && existing.State is ModelVersionState.Ready or ModelVersionState.Unavailable
                    && existing.File?.IsSameFile(file) == true)
                {
                    versions[number] = existing;
                }
                else
                {
                    var version = LoadVersion(directory, number, strict);
                    if (version.State == ModelVersionState.Ready)
                    {
                        loaded.Add(version);
                    }

                    versions[number] = version;
                }
            }
        }
        catch
        {
            Abandon(loaded);
            throw;
        }

        return new PreparedModel(directory, versions.ToImmutable(), loaded);
    }

    private ModelVersion LoadVersion(ModelDirectory directory, long number, bool strict)
    {
        var file = directory.VersionFile(number);
        var label = number.ToString(CultureInfo.InvariantCulture);
        var started = Stopwatch.GetTimestamp();
        try
        {
            // A staged upload is hashed now: its path will not exist once it is renamed into the repository.
            var staged = directory.FileOverrides?.ContainsKey(number) == true;
            var info = VersionFileInfo.Read(file, staged ? null : store.ReadRecord(directory.Name, number), hashNow: staged);
            var model = loader.Load(directory, number);
            var elapsedMs = (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            Log.VersionLoaded(logger, directory.Name, label, model.ExecutionProvider, elapsedMs);
            Interlocked.Increment(ref _loads);
            var version = ModelVersion.Ready(number, model, info);
            version.Touch(time.GetTimestamp());
            return version;
        }
        catch (Exception ex) when (ex is ModelConfigException or IOException or UnauthorizedAccessException)
        {
            if (strict)
            {
                throw new ServingException(FailureKind.InvalidInput, $"model '{directory.Name}' version {number} cannot be loaded: {ex.Message}", ex);
            }

            Log.VersionFailed(logger, directory.Name, label, ex.Message);
            return ModelVersion.Unavailable(number, ex.Message, SafeInfo(file));
        }
    }

    private static VersionFileInfo? SafeInfo(string file)
    {
        var info = new FileInfo(file);
        return info.Exists ? new VersionFileInfo(info.Length, info.LastWriteTimeUtc, null, null) : null;
    }

    /// <summary>Swaps the prepared versions in; the ones they replace are retired after their last request.</summary>
    private void Publish(PreparedModel prepared, bool unloaded = false)
    {
        registry.Set(new RegisteredModel(prepared.Directory, prepared.Versions, unloaded));
        EnforceBudget();
    }

    private static void Abandon(List<ModelVersion> loaded)
    {
        foreach (var version in loaded)
        {
            version.Retire();
        }
    }

    private async Task<IDisposable> LockAsync(string name, CancellationToken cancellationToken)
    {
        var gate = _locks.GetOrAdd(name, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken);
        return new Releaser(gate);
    }

    public void Dispose()
    {
        foreach (var gate in _locks.Values)
        {
            gate.Dispose();
        }
    }

    /// <summary>A model's next set of versions, loaded but not yet published.</summary>
    private sealed record PreparedModel(ModelDirectory Directory, ImmutableSortedDictionary<long, ModelVersion> Versions, List<ModelVersion> Loaded)
    {
        public void Abandon() => ModelManager.Abandon(Loaded);
    }

#pragma warning disable CA2213 // the gate belongs to the manager; the releaser only releases it
    private sealed class Releaser(SemaphoreSlim gate) : IDisposable
    {
        private SemaphoreSlim? _gate = gate;

        public void Dispose() => Interlocked.Exchange(ref _gate, null)?.Release();
    }
#pragma warning restore CA2213
}
