using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Extensions.Options;

namespace MaaS.Core.Repository;

/// <summary>
/// The repository as a directory tree. Uploads are staged in <c>&lt;root&gt;/.maas-staging</c> (same file system, so
/// the final rename is atomic) and deletions go through <c>&lt;root&gt;/.maas-trash</c>; scans skip both (names
/// starting with '.' are never models), and leftovers from a crash are cleared at start.
/// </summary>
internal sealed class DiskModelStore : IModelStore
{
    public const string RecordFileName = ".maas-version.json";
    private const string StagingName = ".maas-staging";
    private const string TrashName = ".maas-trash";

    private readonly TimeProvider _time;

    public DiskModelStore(IOptions<MaaSOptions> options, TimeProvider time)
    {
        _time = time;
        Root = Path.GetFullPath(options.Value.ModelRepository);
        RemoveLeftovers();
    }

    public string Root { get; }

    /// <summary>How old a staging or trash entry must be to count as a crash's leftover rather than another replica's work in progress.</summary>
    public static readonly TimeSpan LeftoverAge = TimeSpan.FromHours(1);

    /// <summary>
    /// Clears what a crash left in the staging and trash areas. Replicas share the volume, so only entries untouched
    /// for <see cref="LeftoverAge"/> go: a younger one may be another replica's upload in progress.
    /// </summary>
    private void RemoveLeftovers()
    {
        var cutoff = _time.GetUtcNow().UtcDateTime - LeftoverAge;
        foreach (var area in new[] { StagingName, TrashName })
        {
            var path = Path.Combine(Root, area);
            if (!Directory.Exists(path))
            {
                continue;
            }

            foreach (var entry in new DirectoryInfo(path).EnumerateDirectories().Where(entry => entry.LastWriteTimeUtc < cutoff))
            {
                try
                {
                    entry.Delete(recursive: true);
                }
                catch (IOException)
                {
                    // Another replica cleaned it up first, or it is still in use: the next start tries again.
                }
            }
        }
    }

    public IReadOnlyList<ModelDirectory> Scan() => ModelRepositoryScanner.Scan(Root);

    public ModelDirectory? Find(string name)
    {
        var path = ModelPath(name);
        return Directory.Exists(path) ? ModelRepositoryScanner.ReadModel(name, path) : null;
    }

    public async Task<StagedFile> StageAsync(Stream content, long maxBytes, CancellationToken cancellationToken)
    {
        var directory = Path.Combine(Root, StagingName, Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, "upload");
        try
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            long size = 0;
            await using (var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true))
            {
                var buffer = new byte[1 << 16];
                int read;
                while ((read = await content.ReadAsync(buffer, cancellationToken)) > 0)
                {
                    size += read;
                    if (size > maxBytes)
                    {
                        throw new ServingException(
                            FailureKind.PayloadTooLarge, $"the model is larger than the limit of {maxBytes} bytes (MaaS:Limits:MaxModelBytes)");
                    }

                    hash.AppendData(buffer, 0, read);
                    await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                }

                // The rename that publishes the version must never expose bytes still in the page cache only.
                file.Flush(flushToDisk: true);
            }

            return new StagedFile(directory, path, Convert.ToHexStringLower(hash.GetHashAndReset()), size);
        }
        catch
        {
            Directory.Delete(directory, recursive: true);
            throw;
        }
    }

    public StagedFile StageWritten(Action<string> write, long maxBytes)
    {
        var directory = Path.Combine(Root, StagingName, Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, "upload");
        try
        {
            write(path);
            var size = new FileInfo(path).Length;
            if (size > maxBytes)
            {
                throw new ServingException(
                    FailureKind.PayloadTooLarge, $"the derived model is {size} bytes, over the limit of {maxBytes} bytes (MaaS:Limits:MaxModelBytes)");
            }

            string sha256;
            using (var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.None, 1 << 16))
            {
                // As for an upload: the rename that publishes the version must never expose bytes still in the page cache only.
                file.Flush(flushToDisk: true);
                sha256 = Convert.ToHexStringLower(SHA256.HashData(file));
            }

            return new StagedFile(directory, path, sha256, size);
        }
        catch
        {
            Directory.Delete(directory, recursive: true);
            throw;
        }
    }

    public void CommitVersion(StagedFile staged, string model, long version, string fileName)
    {
        var target = VersionPath(model, version);
        if (Directory.Exists(target))
        {
            throw new ServingException(FailureKind.Conflict, $"model '{model}' version {version} already exists");
        }

        File.Move(staged.Path, Path.Combine(staged.Directory, fileName));
        var record = new VersionRecord(staged.Sha256, staged.Size, _time.GetUtcNow(), staged.DerivedFrom);
        File.WriteAllBytes(Path.Combine(staged.Directory, RecordFileName), JsonSerializer.SerializeToUtf8Bytes(record, RepositoryJsonContext.Default.VersionRecord));
        Directory.CreateDirectory(ModelPath(model));
        try
        {
            Directory.Move(staged.Directory, target);
        }
        catch (IOException) when (Directory.Exists(target))
        {
            throw new ServingException(FailureKind.Conflict, $"model '{model}' version {version} already exists");
        }

        staged.Committed = true;
    }

    public void ReplaceVersions(string model, IReadOnlyDictionary<long, StagedFile> staged, string fileName)
    {
        var aside = Path.Combine(Root, TrashName, Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(aside);
        var moved = new List<string>();
        var placed = new List<long>();
        try
        {
            var modelPath = ModelPath(model);
            foreach (var old in Directory.Exists(modelPath) ? ModelRepositoryScanner.ReadModel(model, modelPath).Versions : [])
            {
                var name = old.ToString(CultureInfo.InvariantCulture);
                Directory.Move(VersionPath(model, old), Path.Combine(aside, name));
                moved.Add(name);
            }

            foreach (var (version, file) in staged)
            {
                CommitVersion(file, model, version, fileName);
                placed.Add(version);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ServingException)
        {
            foreach (var version in placed)
            {
                MoveToTrashAndDelete(VersionPath(model, version));
            }

            foreach (var name in moved)
            {
                Directory.Move(Path.Combine(aside, name), Path.Combine(ModelPath(model), name));
            }

            Directory.Delete(aside, recursive: true);
            throw;
        }

        Directory.Delete(aside, recursive: true);
    }

    public void WriteConfig(string model, string fileName, ReadOnlySpan<byte> content)
    {
        var directory = ModelPath(model);
        Directory.CreateDirectory(directory);
        var temp = Path.Combine(directory, $".{ConfigFile(fileName)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
            {
                file.Write(content);
                file.Flush(flushToDisk: true);
            }

            File.Move(temp, Path.Combine(directory, fileName), overwrite: true);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }

    public void DeleteConfig(string model, string fileName) => File.Delete(Path.Combine(ModelPath(model), ConfigFile(fileName)));

    public byte[]? ReadConfig(string model)
    {
        var path = Path.Combine(ModelPath(model), "config.json");
        return File.Exists(path) ? File.ReadAllBytes(path) : null;
    }

    public void DeleteVersion(string model, long version) => MoveToTrashAndDelete(VersionPath(model, version));

    public void DeleteModel(string model) => MoveToTrashAndDelete(ModelPath(model));

    public VersionRecord? ReadRecord(string model, long version)
    {
        var path = Path.Combine(VersionPath(model, version), RecordFileName);
        try
        {
            return File.Exists(path) ? JsonSerializer.Deserialize(File.ReadAllBytes(path), RepositoryJsonContext.Default.VersionRecord) : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private void MoveToTrashAndDelete(string path)
    {
        if (!Directory.Exists(path))
        {
            return;
        }

        var trash = Path.Combine(Root, TrashName, Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path.GetDirectoryName(trash)!);
        Directory.Move(path, trash);
        Directory.Delete(trash, recursive: true);
    }

    private static string ConfigFile(string fileName) =>
        fileName is ModelConfigFiles.Json or ModelConfigFiles.Pbtxt or ModelConfigFiles.Additions
            ? fileName
            : throw new ArgumentException($"'{fileName}' is not a config file", nameof(fileName));

    private string ModelPath(string model) =>
        ModelRepositoryScanner.IsValidModelName(model)
            ? Path.Combine(Root, model)
            : throw new ArgumentException($"'{model}' is not a valid model name", nameof(model));

    private string VersionPath(string model, long version) =>
        Path.Combine(ModelPath(model), version.ToString(CultureInfo.InvariantCulture));
}
