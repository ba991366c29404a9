using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace MaaS.Core.Registry;

/// <summary>The models being served and the state of each version. Lookups are lock-free; a change replaces a model's entry.</summary>
public sealed class ModelRegistry(IOptions<MaaSOptions> options, TimeProvider? time = null) : IDisposable
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly ConcurrentDictionary<string, RegisteredModel> _models = new(StringComparer.Ordinal);
    private volatile bool _startupComplete;

    /// <summary>Every model, ordered by name.</summary>
    public IReadOnlyList<RegisteredModel> Models => _models.Values.OrderBy(model => model.Name, StringComparer.Ordinal).ToList();

    /// <summary>True once the models found at startup have been loaded (or have failed to).</summary>
    public bool StartupComplete => _startupComplete;

    /// <summary>Raised when a version leaves the registry for good (deleted, or its model removed): model name, version.</summary>
    public event Action<string, long>? VersionRemoved;

    /// <summary>Why the repository could not be read at all (an unreadable volume), or null.</summary>
    public string? RepositoryError { get; set; }

    /// <summary>Server readiness: startup done, the repository readable and, under strict readiness, every selected version READY.</summary>
    public bool IsReady =>
        _startupComplete
        && RepositoryError is null
        && (!options.Value.StrictReadiness
            || _models.Values.All(model => model.Unloaded || (model.Error is null && model.Versions.Values.All(v => v.IsRoutable))));

    public bool TryGetModel(string name, out RegisteredModel model) => _models.TryGetValue(name, out model!);

    /// <summary>The model, or a 404 failure naming it.</summary>
    public RegisteredModel GetModel(string name) =>
        _models.TryGetValue(name, out var model) ? model : throw ServingException.ModelNotFound(name);

    /// <summary>The version (latest READY when <paramref name="version"/> is null), or a 404 failure.</summary>
    public ModelVersion GetVersion(string name, long? version)
    {
        var model = GetModel(name);
        if (version is null)
        {
            return model.Latest ?? throw new ServingException(
                FailureKind.NotReady, $"model '{name}' has no available versions{Because(model)}");
        }

        return model.Versions.TryGetValue(version.Value, out var found) ? found : throw ServingException.VersionNotFound(name, version.Value);
    }

    /// <summary>Leases a READY version for one request; 404 when unknown, 503 when it exists but cannot serve (or is evicted).</summary>
    public VersionLease Acquire(string name, long? version) =>
        TryAcquire(name, version, label: null, out var evicted)
            ?? throw new ServingException(FailureKind.NotReady, $"model '{name}' version {evicted!.Number} is evicted and not loaded");

    /// <summary>
    /// Leases a READY version for one request (the one <paramref name="label"/> points at, when given), or returns null
    /// with the version when it is evicted (the caller loads it again and retries); 404 when unknown, 503 when it exists
    /// but cannot serve.
    /// </summary>
    public VersionLease? TryAcquire(string name, long? version, string? label, out ModelVersion? evicted)
    {
        // A concurrent swap can retire the version between lookup and acquire: look again, the entry has moved on.
        for (var attempt = 0; attempt < 8; attempt++)
        {
            var found = Find(name, version, label);
            if (found.IsEvicted)
            {
                evicted = found;
                return null;
            }

            if (found.State != ModelVersionState.Ready)
            {
                throw NotReady(name, found);
            }

            if (found.TryAcquire())
            {
                found.Touch(_time.GetTimestamp());
                evicted = null;
                return new VersionLease(name, found);
            }
        }

        throw new ServingException(FailureKind.NotReady, $"model '{name}' is being replaced; retry");
    }

    /// <summary>The version a request addresses: by number, by label, or the latest routable one; 404 when unknown.</summary>
    internal ModelVersion Find(string name, long? version, string? label) => label is null ? GetVersion(name, version) : GetLabelled(name, label);

    internal static ServingException NotReady(string name, ModelVersion version) => new(
        FailureKind.NotReady,
        $"model '{name}' version {version.Number} is not ready: {version.State.ToString().ToUpperInvariant()}{(version.Reason is null ? "" : $" ({version.Reason})")}");

    /// <summary>The version a label points at; 404 when the model or the label is unknown.</summary>
    public long ResolveLabel(string name, string label) => ResolveLabel(GetModel(name), label);

    /// <summary>
    /// The label and the version it points at, read from one entry: a label move retires the old version in the same
    /// swap, so a label read before a swap must not be looked up after it (the version would be gone: a 404).
    /// </summary>
    private ModelVersion GetLabelled(string name, string label)
    {
        var model = GetModel(name);
        var version = ResolveLabel(model, label);
        return model.Versions.TryGetValue(version, out var found) ? found : throw ServingException.VersionNotFound(name, version);
    }

    private static long ResolveLabel(RegisteredModel model, string label) =>
        model.Directory.Labels.TryGetValue(label, out var version)
            ? version
            : throw new ServingException(FailureKind.VersionNotFound, $"model '{model.Name}' has no label '{label}'");

    /// <summary>Every version holding a loaded model right now, with its model entry.</summary>
    public IEnumerable<(RegisteredModel Model, ModelVersion Version)> LoadedVersions =>
        _models.Values.SelectMany(model => model.Versions.Values.Where(version => version.Model is not null).Select(version => (model, version)));

    /// <summary>
    /// Swaps one version for another if the model's entry still holds <paramref name="expected"/> (eviction, a reload
    /// on demand); false when the entry moved on meanwhile. The replaced version is retired.
    /// </summary>
    internal bool TryReplaceVersion(string name, ModelVersion expected, ModelVersion replacement)
    {
        if (!replacement.IsAlive)
        {
            throw new InvalidOperationException($"model '{name}' version {replacement.Number} was retired before it was published; it would never serve");
        }

        if (!_models.TryGetValue(name, out var current) || !current.Versions.TryGetValue(expected.Number, out var held) || !ReferenceEquals(held, expected))
        {
            return false;
        }

        var updated = new RegisteredModel(current.Directory, current.Versions.SetItem(expected.Number, replacement), current.Unloaded);
        if (!_models.TryUpdate(name, updated, current))
        {
            return false;
        }

        expected.Retire();
        return true;
    }

    /// <summary>Removes a model; its versions are retired (disposed after their last request).</summary>
    internal void Remove(string name)
    {
        if (_models.TryRemove(name, out var removed))
        {
            foreach (var version in removed.Versions.Values)
            {
                version.Retire();
                VersionRemoved?.Invoke(name, version.Number);
            }
        }
    }

    /// <summary>
    /// Publishes <paramref name="replacement"/> if the model's entry is still <paramref name="expected"/> (null: the model
    /// must not be registered yet): a compare-and-swap, so a change prepared from an entry that has moved on since (a
    /// version evicted or reloaded meanwhile) is refused, and the writer prepares again from the new entry. Versions the
    /// old entry held that the new one does not are retired (disposed after their last request).
    /// </summary>
    /// <exception cref="InvalidOperationException">A loaded version in <paramref name="replacement"/> was already retired: publishing it would serve a disposed session.</exception>
    internal bool TryPublish(RegisteredModel? expected, RegisteredModel replacement)
    {
        foreach (var version in replacement.Versions.Values)
        {
            if (!version.IsAlive)
            {
                throw new InvalidOperationException(
                    $"model '{replacement.Name}' version {version.Number} was retired before it was published; it would never serve");
            }
        }

        var swapped = expected is null
            ? _models.TryAdd(replacement.Name, replacement)
            : _models.TryUpdate(replacement.Name, replacement, expected);
        if (swapped && expected is not null)
        {
            RetireReplaced(expected, replacement);
        }

        return swapped;
    }

    /// <summary>Takes a version out of the entry (its file went away while it was evicted), if the entry still holds <paramref name="expected"/>.</summary>
    internal bool TryRemoveVersion(string name, ModelVersion expected)
    {
        if (!_models.TryGetValue(name, out var current) || !current.Versions.TryGetValue(expected.Number, out var held) || !ReferenceEquals(held, expected))
        {
            return false;
        }

        var updated = new RegisteredModel(current.Directory, current.Versions.Remove(expected.Number), current.Unloaded);
        if (!_models.TryUpdate(name, updated, current))
        {
            return false;
        }

        RetireReplaced(current, updated);
        return true;
    }

    private void RetireReplaced(RegisteredModel previous, RegisteredModel model)
    {
        foreach (var old in previous.Versions.Values)
        {
            if (!model.Versions.TryGetValue(old.Number, out var current) || !ReferenceEquals(current, old))
            {
                old.Retire();
                if (current is null || current.File?.SameFileAs(old.File) != true)
                {
                    // Gone, or another file under the same number: its history is not the new one's.
                    VersionRemoved?.Invoke(model.Name, old.Number);
                }
            }
        }
    }

    internal void MarkStartupComplete() => _startupComplete = true;

    public void Dispose()
    {
        foreach (var model in _models.Values)
        {
            foreach (var version in model.Versions.Values)
            {
                version.Retire();
            }
        }

        _models.Clear();
    }

    private static string Because(RegisteredModel model)
    {
        var reason = model.Error ?? model.Versions.Values.LastOrDefault(v => v.Reason is not null)?.Reason;
        return reason is null ? "" : $": {reason}";
    }
}
