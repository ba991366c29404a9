using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using MaaS.Core.Repository;

namespace MaaS.Core.Registry;

/// <summary>
/// What the repository holds, as the registry knows it: the registry view of one model, Triton's repository index and
/// the startup summary's figures. Read from the registry's state (what was last synced from disk), so every answer
/// agrees with what is served. The disk is read only for what the registry cannot know: the facts recorded beside a
/// version that is not loaded, and (for the index, as Triton lists them) the names of models put there since the last sync.
/// </summary>
public sealed class RepositoryView
{
    private static readonly JsonDocumentOptions LenientJson = new() { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };

    private readonly ModelRegistry _registry;
    private readonly IModelStore _store;

    internal RepositoryView(ModelRegistry registry, IModelStore store)
    {
        _registry = registry;
        _store = store;
    }

    /// <summary>Absolute path of the repository root.</summary>
    public string Root => _store.Root;

    /// <summary>Models the registry knows (served, unavailable or unloaded).</summary>
    public int ModelCount => _registry.Models.Count;

    /// <summary>Every version on disk with its state, file facts and labels, and the model's config; 404 for an unknown model.</summary>
    public ModelRegistryView Describe(string name)
    {
        var model = _registry.GetModel(name);
        var directory = model.Directory;
        var labels = directory.Labels;
        var versions = directory.Versions.Union(model.Versions.Keys).Order().Select(number =>
        {
            var served = model.Versions.GetValueOrDefault(number);
            var file = served?.File;
            var record = file?.Sha256 is null ? _store.ReadRecord(name, number) : null;
            return new VersionView(
                number.ToString(CultureInfo.InvariantCulture),
                served?.State.ToString().ToUpperInvariant() ?? "UNAVAILABLE",
                served is null ? "not selected by the version policy" : served.Reason,
                file?.Sha256 ?? record?.Sha256,
                file?.SizeBytes ?? record?.SizeBytes ?? FileSize(directory.VersionFile(number)),
                file?.Created ?? record?.Created,
                labels.Where(label => label.Value == number).Select(label => label.Key).Order(StringComparer.Ordinal).ToList(),
                served?.Instances,
                file is null ? record?.DerivedFrom : file.DerivedFrom ?? record?.DerivedFrom);
        }).ToList();
        return new ModelRegistryView(
            name,
            model.Error,
            model.Unloaded,
            labels,
            versions,
            directory.ConfigJson is { } json ? ParseOrNull(json) : null,
            directory.Config?.Ignored.Keys.Order(StringComparer.Ordinal).ToList() ?? []);
    }

    /// <summary>Triton's repository index: every model version with its state and reason (READY ones only with <paramref name="readyOnly"/>).</summary>
    public List<RepositoryIndexEntry> Index(bool readyOnly)
    {
        if (_registry.RepositoryError is { } error)
        {
            throw new ServingException(FailureKind.NotReady, error);
        }

        var entries = new List<RepositoryIndexEntry>();
        if (!readyOnly)
        {
            // As Triton lists them: models put on disk since the last sync (no polling) appear with their name only.
            foreach (var name in NamesOnDisk().Where(name => !_registry.TryGetModel(name, out _)))
            {
                entries.Add(new RepositoryIndexEntry(name, null, null, null));
            }
        }

        foreach (var model in _registry.Models)
        {
            if (model.IsPipeline && model.Error is null)
            {
                // No versions of its own: a pipeline model is ready when the model it runs is.
                var inner = model.Directory.Config!.Pipeline!.InnerModel!;
                var ready = _registry.TryGetModel(inner, out var runs) && runs.Latest is not null;
                if (!readyOnly || ready)
                {
                    entries.Add(new RepositoryIndexEntry(model.Name, null, ready ? "READY" : "UNAVAILABLE", ready ? null : $"its inner model '{inner}' has no ready version"));
                }

                continue;
            }

            if (model.Versions.IsEmpty)
            {
                if (!readyOnly)
                {
                    entries.Add(new RepositoryIndexEntry(model.Name, null, "UNAVAILABLE", model.Error));
                }

                continue;
            }

            foreach (var version in model.Versions.Values)
            {
                if (!readyOnly || version.State == ModelVersionState.Ready)
                {
                    entries.Add(new RepositoryIndexEntry(
                        model.Name, version.Number.ToString(CultureInfo.InvariantCulture), version.State.ToString().ToUpperInvariant(), version.Reason));
                }
            }
        }

        return entries.OrderBy(entry => entry.Name, StringComparer.Ordinal).ToList();
    }

    private IEnumerable<string> NamesOnDisk()
    {
        try
        {
            return _store.Scan().Select(model => model.Name);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ServingException(FailureKind.NotReady, $"the model repository cannot be read: {ex.Message}", ex);
        }
    }

    private static long? FileSize(string path)
    {
        var file = new FileInfo(path);
        return file.Exists ? file.Length : null;
    }

    private static JsonNode? ParseOrNull(byte[] json)
    {
        try
        {
            return JsonNode.Parse(json, documentOptions: LenientJson);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
