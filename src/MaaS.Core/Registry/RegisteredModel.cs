using System.Collections.Immutable;
using MaaS.Core.Repository;

namespace MaaS.Core.Registry;

/// <summary>A model as the registry knows it: its directory and config, and its versions by number. Immutable: a change replaces it.</summary>
public sealed class RegisteredModel(ModelDirectory directory, ImmutableSortedDictionary<long, ModelVersion> versions, bool unloaded = false)
{
    public ModelDirectory Directory { get; } = directory;

    public ImmutableSortedDictionary<long, ModelVersion> Versions { get; } = versions;

    /// <summary>Unloaded on request (repository extension): kept out of serving and polling until loaded again.</summary>
    public bool Unloaded { get; } = unloaded;

    public string Name => Directory.Name;

    /// <summary>Why the model as a whole cannot be served (bad config.json, no versions); null otherwise.</summary>
    public string? Error => Directory.ConfigError ?? (Versions.IsEmpty && !Unloaded && !IsPipeline ? NoVersionReason : null);

    /// <summary>A pipeline model (config <c>pipeline</c>): steps around another model, no versions of its own.</summary>
    public bool IsPipeline => Directory.Config?.Pipeline is not null;

    private string NoVersionReason => Directory.Versions.Count == 0
        ? $"model '{Name}' has no version directories holding {Directory.ModelFileName}"
        : $"model '{Name}' has versions {string.Join(", ", Directory.Versions)} on disk, but its version policy selects none of them";

    /// <summary>The highest-numbered routable version, which requests without a version go to (versions are immutable, so it is found once).</summary>
    public ModelVersion? Latest { get; } = versions.Values.LastOrDefault(version => version.IsRoutable);

    /// <summary>Versions a request can reach: READY, or evicted (loaded again on demand).</summary>
    public IEnumerable<ModelVersion> ReadyVersions => Versions.Values.Where(version => version.IsRoutable);

    /// <summary>Never evicted: config "pinned": true.</summary>
    public bool Pinned => Directory.Config?.Pinned == true;
}
