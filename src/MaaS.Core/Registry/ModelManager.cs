using System.Collections.Immutable;
using MaaS.Core.Repository;
using Microsoft.Extensions.Logging;

namespace MaaS.Core.Registry;

/// <summary>
/// The registry's single writer. Every change to a model happens under that model's lock, the same way: work out the
/// versions a model directory asks for, load the ones not already loaded beside those serving, then publish the new
/// set with a compare-and-swap against the entry it was prepared from (prepared again if the entry moved on); old
/// sessions go when their last request ends. Calls on different models run in parallel. The disk is the source of
/// truth: management calls validate, write to the repository, then publish, so a restart or another replica sees the
/// same registry. Requests never come here: they acquire through the <see cref="LoadedModelCache"/>.
/// </summary>
public sealed partial class ModelManager
{
    private const int PublishAttempts = 3;

    private readonly IModelStore _store;
    private readonly VersionLoader _loader;
    private readonly ModelRegistry _registry;
    private readonly ModelLocks _locks;
    private readonly LoadedModelCache _cache;
    private readonly ILogger<ModelManager> _logger;

    internal ModelManager(IModelStore store, VersionLoader loader, ModelRegistry registry, ModelLocks locks, LoadedModelCache cache, ILogger<ModelManager> logger)
    {
        _store = store;
        _loader = loader;
        _registry = registry;
        _locks = locks;
        _cache = cache;
        _logger = logger;
    }

    /// <summary>Loads every model of the repository (startup); failures leave the model UNAVAILABLE with the reason.</summary>
    public async Task LoadAllAsync(CancellationToken cancellationToken)
    {
        var models = _store.Scan();
        Log.Scanning(_logger, _store.Root, models.Count);
        foreach (var model in models)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var placeholders = model.ConfigError is null ? model.ServedVersions() : [];

            // Said here for the first read: the placeholders carry this config's stamp, so Prepare sees no change.
            LogConfigNotes(model);
            _registry.TryPublish(null, new RegisteredModel(model, placeholders.ToImmutableSortedDictionary(v => v, ModelVersion.Loading)));
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
        using (await _locks.LockAsync(name, cancellationToken))
        {
            var directory = _store.Find(name);
            if (directory is null)
            {
                if (_registry.TryGetModel(name, out _))
                {
                    _registry.Remove(name);
                    Log.ModelRemoved(_logger, name);
                }

                return;
            }

            Publish(Prepare(directory, force, strict: false), directory);
        }

        _cache.EnforceBudget();
    }

    /// <summary>
    /// Builds the versions <paramref name="directory"/> asks for, reusing loaded ones when their file and config did
    /// not change (each reused one leased until the publish, so nothing can dispose it meanwhile). With
    /// <paramref name="strict"/>, a version that fails to load aborts the whole change (400) and nothing new stays
    /// loaded; otherwise it becomes UNAVAILABLE with the reason.
    /// </summary>
    private PreparedModel Prepare(ModelDirectory directory, bool force, bool strict)
    {
        _registry.TryGetModel(directory.Name, out var current);
        if (directory.ConfigError is not null)
        {
            if (strict)
            {
                throw ServingException.Invalid(directory.ConfigError);
            }

            // A broken config.json on disk: keep serving what was loaded from the last good one, and say why.
            Log.ModelUnavailable(_logger, directory.Name, directory.ConfigError);
            return KeepCurrent(directory, current, force);
        }

        if (current?.Directory.ConfigStamp != directory.ConfigStamp)
        {
            LogConfigNotes(directory);
        }

        var configChanged = force || current is null || current.Unloaded || current.Directory.ConfigStamp != directory.ConfigStamp;
        var prepared = new PreparedModel(current, force);
        try
        {
            foreach (var number in directory.ServedVersions())
            {
                if (!configChanged && current!.Versions.TryGetValue(number, out var existing) && prepared.TryReuse(existing, directory.VersionFile(number)))
                {
                    continue;
                }

                prepared.Add(_loader.Load(directory, number, strict));
            }
        }
        catch
        {
            prepared.Abandon();
            throw;
        }

        return prepared;
    }

    /// <summary>What a newly read config means beyond its values: Triton keys not applied, a config.pbtxt not read.</summary>
    private void LogConfigNotes(ModelDirectory directory)
    {
        if (directory.Config?.Ignored.Count > 0)
        {
            Log.IgnoredKeys(_logger, directory.Name, string.Join(", ", directory.Config.Ignored.Keys));
        }

        if (directory.PbtxtShadowed)
        {
            Log.PbtxtShadowed(_logger, directory.Name);
        }
    }

    private static PreparedModel KeepCurrent(ModelDirectory directory, RegisteredModel? current, bool force)
    {
        var prepared = new PreparedModel(current, force);
        foreach (var version in current?.Versions.Values ?? [])
        {
            if (version.State != ModelVersionState.Loading && !prepared.TryReuse(version, file: null))
            {
                prepared.Add(ModelVersion.Unavailable(version.Number, $"retired while {directory.Name}'s config.json could not be read"));
            }
        }

        return prepared;
    }

    /// <summary>
    /// Swaps the prepared versions in under <paramref name="directory"/> (what is on disk now), if the entry is still the
    /// one they were prepared from; otherwise prepares again from the new entry (a reload or eviction got in between).
    /// </summary>
    private void Publish(PreparedModel prepared, ModelDirectory directory, bool unloaded = false, bool strict = false)
    {
        for (var attempt = 1; ; attempt++)
        {
            bool published;
            try
            {
                published = _registry.TryPublish(prepared.Expected, new RegisteredModel(directory, prepared.Versions.ToImmutable(), unloaded));
            }
            catch
            {
                prepared.Abandon();
                throw;
            }

            if (published)
            {
                prepared.Published();
                return;
            }

            prepared.Abandon();
            if (attempt == PublishAttempts)
            {
                throw new ServingException(FailureKind.NotReady, $"model '{directory.Name}' kept changing while it was being published; retry");
            }

            prepared = unloaded ? Unloaded(directory) : Prepare(directory, prepared.Force, strict);
        }
    }

    private PreparedModel Unloaded(ModelDirectory directory)
    {
        _registry.TryGetModel(directory.Name, out var current);
        var prepared = new PreparedModel(current, force: false);
        foreach (var version in current?.Versions.Values ?? [])
        {
            prepared.Add(ModelVersion.Unavailable(version.Number, "unloaded", version.File));
        }

        return prepared;
    }

    /// <summary>
    /// A model's next set of versions, not yet published: the entry it was prepared from, the versions loaded for it
    /// (retired if it is abandoned) and the loaded versions it reuses, each leased until the publish ends.
    /// </summary>
    private sealed class PreparedModel(RegisteredModel? expected, bool force)
    {
        private readonly List<ModelVersion> _loaded = [];
        private readonly List<ModelVersion> _reused = [];

        public RegisteredModel? Expected { get; } = expected;

        public bool Force { get; } = force;

        public ImmutableSortedDictionary<long, ModelVersion>.Builder Versions { get; } = ImmutableSortedDictionary.CreateBuilder<long, ModelVersion>();

        /// <summary>Keeps <paramref name="existing"/> if it is READY or UNAVAILABLE from the same file, and still alive.</summary>
        public bool TryReuse(ModelVersion existing, string? file)
        {
            var unchanged = existing.State is ModelVersionState.Ready or ModelVersionState.Unavailable
                && (file is null || existing.File?.IsSameFile(file) == true);
            if (!unchanged)
            {
                return false;
            }

            if (existing.Model is not null)
            {
                // Retired meanwhile (evicted, its last request gone): it cannot be published again, so it is loaded anew.
                if (!existing.TryAcquire())
                {
                    return false;
                }

                _reused.Add(existing);
            }

            Versions[existing.Number] = existing;
            return true;
        }

        public void Add(ModelVersion version)
        {
            if (version.Model is not null)
            {
                _loaded.Add(version);
            }

            Versions[version.Number] = version;
        }

        /// <summary>The registry now holds the versions: the leases on reused ones end.</summary>
        public void Published()
        {
            foreach (var version in _reused)
            {
                version.Release();
            }

            _reused.Clear();
            _loaded.Clear();
        }

        /// <summary>Never published: what was loaded for it is retired, and the leases on reused versions end.</summary>
        public void Abandon()
        {
            foreach (var version in _loaded)
            {
                version.Retire();
            }

            Published();
        }
    }
}
