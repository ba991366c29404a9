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

    /// <summary>For a file the server derived from a version: what is recorded with it as <c>derived_from</c> (the optimisation report).</summary>
    public System.Text.Json.JsonElement? DerivedFrom { get; internal set; }

    internal bool Committed { get; set; }

    public void Dispose()
    {
        if (!Committed && System.IO.Directory.Exists(Directory))
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
    }
}
