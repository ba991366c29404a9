using System.Security.Cryptography;
using MaaS.Core.Repository;

namespace MaaS.Core.Registry;

/// <summary>A version's model file as it was when loaded: enough to tell a changed file, and what the registry view shows.</summary>
public sealed record VersionFileInfo(long SizeBytes, DateTime LastWriteUtc, string? Sha256, DateTimeOffset? Created)
{
    /// <summary>Reads the file's facts; the hash comes from the upload record, or is computed when there is none.</summary>
    public static VersionFileInfo? Read(string path, VersionRecord? record)
    {
        var file = new FileInfo(path);
        if (!file.Exists)
        {
            return null;
        }

        string? sha256 = record?.Sha256;
        if (sha256 is null)
        {
            using var stream = file.OpenRead();
            sha256 = Convert.ToHexStringLower(SHA256.HashData(stream));
        }

        return new VersionFileInfo(file.Length, file.LastWriteTimeUtc, sha256, record?.Created ?? new DateTimeOffset(file.LastWriteTimeUtc));
    }

    /// <summary>True when <paramref name="path"/> still holds the file these facts were read from.</summary>
    public bool IsSameFile(string path)
    {
        var file = new FileInfo(path);
        return file.Exists && file.Length == SizeBytes && file.LastWriteTimeUtc == LastWriteUtc;
    }
}
