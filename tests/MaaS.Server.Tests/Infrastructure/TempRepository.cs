namespace MaaS.Server.Tests.Infrastructure;

/// <summary>A model repository in a temp directory, deleted on dispose; copy bundled or zoo models into it, or write broken ones.</summary>
public sealed class TempRepository : IDisposable
{
    public TempRepository()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "maas-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    /// <summary>Copies a model directory (config, labels, versions) from <paramref name="sourceRepository"/>.</summary>
    public TempRepository CopyModel(string sourceRepository, string model, string? asName = null)
    {
        CopyDirectory(System.IO.Path.Combine(sourceRepository, model), System.IO.Path.Combine(Path, asName ?? model));
        return this;
    }

    /// <summary>Writes a file under the repository, creating its directories.</summary>
    public TempRepository WriteFile(string relativePath, byte[] content)
    {
        var full = System.IO.Path.Combine(Path, relativePath);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
        File.WriteAllBytes(full, content);
        return this;
    }

    public TempRepository WriteFile(string relativePath, string content) => WriteFile(relativePath, System.Text.Encoding.UTF8.GetBytes(content));

    /// <summary>Deletes a file under the repository (e.g. a copied model's config.json).</summary>
    public TempRepository DeleteFile(string relativePath)
    {
        File.Delete(System.IO.Path.Combine(Path, relativePath));
        return this;
    }

    public void Dispose()
    {
        if (Directory.Exists(Path))
        {
            Directory.Delete(Path, recursive: true);
        }
    }

    private static void CopyDirectory(string source, string destination)
    {
        Directory.CreateDirectory(destination);
        foreach (var file in Directory.GetFiles(source))
        {
            File.Copy(file, System.IO.Path.Combine(destination, System.IO.Path.GetFileName(file)));
        }

        foreach (var directory in Directory.GetDirectories(source))
        {
            CopyDirectory(directory, System.IO.Path.Combine(destination, System.IO.Path.GetFileName(directory)));
        }
    }
}
