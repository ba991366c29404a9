using System.Collections.Immutable;
using MaaS.Core.Repository;

namespace MaaS.Core.Registry;

/// <summary>A model as the registry knows it: its directory and config, and its versions by number. Immutable; changes replace it.</summary>
public sealed record RegisteredModel(ModelDirectory Directory, ImmutableSortedDictionary<long, ModelVersion> Versions)
{
    public string Name => Directory.Name;

    /// <summary>Why the model as a whole cannot be served (bad config.json, no versions); null otherwise.</summary>
    public string? Error => Directory.ConfigError ?? (Versions.IsEmpty ? $"model '{Name}' has no version directories holding {Directory.ModelFileName}" : null);

    /// <summary>The highest-numbered READY version, which requests without a version go to.</summary>
    public ModelVersion? Latest => Versions.Values.LastOrDefault(version => version.State == ModelVersionState.Ready);

    public IEnumerable<ModelVersion> ReadyVersions => Versions.Values.Where(version => version.State == ModelVersionState.Ready);
}
