namespace MaaS.Core.Repository;

/// <summary>One model as found on disk: its config (or why it could not be read) and its version directories.</summary>
public sealed record ModelDirectory(string Name, string Path, ModelConfig? Config, string? ConfigError, IReadOnlyList<long> Versions)
{
    /// <summary>Hash of config.json's bytes (null without one): a change means the versions must be reloaded.</summary>
    public string? ConfigStamp { get; init; }

    /// <summary>Versions whose file is somewhere else for now (an upload still in staging, already hashed).</summary>
    public IReadOnlyDictionary<long, StagedFile>? Staged { get; init; }

    /// <summary>
    /// The config's JSON form as read with the directory (null without one), for the registry view and edits: the bytes
    /// of config.json, or config.pbtxt read into JSON with maas.json merged over it.
    /// </summary>
    public byte[]? ConfigJson { get; init; }

    /// <summary>Which file the config came from (config.json when there is none).</summary>
    public ModelConfigFormat Format { get; init; }

    /// <summary>The bytes of config.pbtxt for a <see cref="ModelConfigFormat.Pbtxt"/> model, else null.</summary>
    public byte[]? ConfigText { get; init; }

    /// <summary>The bytes of maas.json (the server's additions) for a <see cref="ModelConfigFormat.Pbtxt"/> model, null without one.</summary>
    public byte[]? Additions { get; init; }

    /// <summary>A config.pbtxt lies beside the config.json that is read instead (config.json wins).</summary>
    public bool PbtxtShadowed { get; init; }

    /// <summary>The file each version directory holds.</summary>
    public string ModelFileName => Config?.DefaultModelFilename ?? "model.onnx";

    public string VersionFile(long version) =>
        Staged?.TryGetValue(version, out var staged) == true
            ? staged.Path
            : System.IO.Path.Combine(Path, version.ToString(System.Globalization.CultureInfo.InvariantCulture), ModelFileName);

    /// <summary>Label name -> version, from the config.</summary>
    public IReadOnlyDictionary<string, long> Labels => Config?.Labels ?? (IReadOnlyDictionary<string, long>)System.Collections.Immutable.ImmutableDictionary<string, long>.Empty;

    /// <summary>What to serve: the versions the policy selects, plus every labelled version that exists.</summary>
    public IReadOnlyList<long> ServedVersions() =>
        SelectVersions().Union(Labels.Values.Where(Versions.Contains)).Order().ToList();

    /// <summary>The versions the version policy selects for serving (default: the latest one).</summary>
    public IReadOnlyList<long> SelectVersions()
    {
        var policy = Config?.VersionPolicy;
        if (policy?.All is not null)
        {
            return Versions;
        }

        if (policy?.Specific is { } specific)
        {
            return Versions.Where(specific.Versions.Contains).ToList();
        }

        var latest = policy?.Latest?.NumVersions ?? 1;
        return Versions.Skip(Math.Max(0, Versions.Count - latest)).ToList();
    }
}
