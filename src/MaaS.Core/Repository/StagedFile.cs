namespace MaaS.Core.Repository;

/// <summary>An uploaded file in the staging area, not yet part of the repository. Disposing it removes what was not committed.</summary>
public sealed class StagedFile : IDisposable
{
    internal StagedFile(string directory, string path, string sha256, long size)
    {
        Directory = directory;
        Path = path;
        Sha256 = sha256;
        Size = size;
    }

    /// <summary>The staging directory, which becomes the version directory on commit.</summary>
    public string Directory { get; }

    public string Path { get; }

    public string Sha256 { get; }

    public long Size { get; }

    internal bool Committed { get; set; }

    public void Dispose()
    {
        if (!Committed && System.IO.Directory.Exists(Directory))
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
    }
}
