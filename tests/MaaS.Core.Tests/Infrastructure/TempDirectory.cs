namespace MaaS.Core.Tests.Infrastructure;

/// <summary>A fresh directory under the system temp path, deleted with everything in it on dispose.</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "maas-core-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    /// <summary>Creates <paramref name="relativePath"/> (and its parents) as a directory; returns its full path.</summary>
    public string CreateDirectory(string relativePath)
    {
        var full = System.IO.Path.Combine(Path, relativePath);
        Directory.CreateDirectory(full);
        return full;
    }

    /// <summary>Writes <paramref name="relativePath"/> (creating its parents); returns its full path.</summary>
    public string WriteFile(string relativePath, string text = "") => WriteFile(relativePath, System.Text.Encoding.UTF8.GetBytes(text));

    public string WriteFile(string relativePath, byte[] bytes)
    {
        var full = System.IO.Path.Combine(Path, relativePath);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
        File.WriteAllBytes(full, bytes);
        return full;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // best effort: a leftover temp directory is harmless
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
