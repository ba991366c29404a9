using System.Security.Cryptography;
using MaaS.Core.Repository;

namespace MaaS.Core.Registry;

/// <summary>
/// A version's model file as it was when loaded: enough to tell a changed file, and what the registry view shows.
/// The SHA-256 comes from the upload record; for a file copied in by hand it is computed the first time someone asks,
/// not at every start (a multi-gigabyte model would otherwise be read twice per load).
/// </summary>
public sealed class VersionFileInfo
{
    private readonly Lazy<string?> _sha256;

    public VersionFileInfo(long sizeBytes, DateTime lastWriteUtc, string? sha256, DateTimeOffset? created, string? path = null)
    {
        SizeBytes = sizeBytes;
        LastWriteUtc = lastWriteUtc;
        Created = created;
        _sha256 = sha256 is not null || path is null ? new Lazy<string?>(sha256) : new Lazy<string?>(() => Hash(path));
    }

    public long SizeBytes { get; }

    public DateTime LastWriteUtc { get; }

    public DateTimeOffset? Created { get; }

    /// <summary>The recorded <c>derived_from</c> of a version the server made from another (an optimisation report), or null.</summary>
    public System.Text.Json.JsonElement? DerivedFrom { get; private init; }

    /// <summary>The file's SHA-256 (hex), or null when it is unknown (the file changed or went away before anyone asked).</summary>
    public string? Sha256 => _sha256.Value;

    /// <summary>
    /// Reads the file's facts. The hash comes from <paramref name="record"/>; without one it is computed now when
    /// <paramref name="hashNow"/> (a staged upload about to be moved), else on first use.
    /// </summary>
    public static VersionFileInfo? Read(string path, VersionRecord? record, bool hashNow = false)
    {
        var file = new FileInfo(path);
        if (!file.Exists)
        {
            return null;
        }

        var created = record?.Created ?? new DateTimeOffset(file.LastWriteTimeUtc);
        var info = new VersionFileInfo(file.Length, file.LastWriteTimeUtc, record?.Sha256, created, path) { DerivedFrom = record?.DerivedFrom };
        if (hashNow)
        {
            _ = info.Sha256;
        }

        return info;
    }

    /// <summary>True when <paramref name="path"/> still holds the file these facts were read from.</summary>
    public bool IsSameFile(string path)
    {
        var file = new FileInfo(path);
        return file.Exists && file.Length == SizeBytes && file.LastWriteTimeUtc == LastWriteUtc;
    }

    /// <summary>The same file as <paramref name="other"/> by size and time (what a rename or reload keeps).</summary>
    public bool SameFileAs(VersionFileInfo? other) => other is not null && other.SizeBytes == SizeBytes && other.LastWriteUtc == LastWriteUtc;

    private string? Hash(string path)
    {
        try
        {
            if (!IsSameFile(path))
            {
                return null;
            }

            using var stream = File.OpenRead(path);
            return Convert.ToHexStringLower(SHA256.HashData(stream));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
