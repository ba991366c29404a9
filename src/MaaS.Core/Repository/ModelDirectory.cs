namespace MaaS.Core.Repository;

/// <summary>One model as found on disk: its config (or why it could not be read) and its version directories.</summary>
public sealed record ModelDirectory(string Name, string Path, ModelConfig? Config, string? ConfigError, IReadOnlyList<long> Versions)
{
    /// <summary>The file each version directory holds.</summary>
    public string ModelFileName => Config?.DefaultModelFilename ?? "model.onnx";

    public string VersionFile(long version) => System.IO.Path.Combine(Path, version.ToString(System.Globalization.CultureInfo.InvariantCulture), ModelFileName);

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
