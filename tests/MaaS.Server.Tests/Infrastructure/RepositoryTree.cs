namespace MaaS.Server.Tests.Infrastructure;

/// <summary>
/// Every directory and file under a repository root, files with their SHA-256, so "nothing was written" can be asserted.
/// The server's hidden work areas (.maas-staging, .maas-trash) are left out, and must hold nothing.
/// </summary>
public sealed class RepositoryTree
{
    private static readonly string[] WorkAreas = [".maas-staging", ".maas-trash"];

    private RepositoryTree(string root, SortedDictionary<string, string> entries)
    {
        Root = root;
        Entries = entries;
    }

    public string Root { get; }

    /// <summary>Relative path (with '/') -> "dir" or the file's SHA-256.</summary>
    public SortedDictionary<string, string> Entries { get; }

    public static RepositoryTree Capture(string root)
    {
        var entries = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var path in Directory.EnumerateFileSystemEntries(root, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(root, path).Replace('\\', '/');
            if (WorkAreas.Any(area => relative == area || relative.StartsWith(area + "/", StringComparison.Ordinal)))
            {
                continue;
            }

            entries[relative] = Directory.Exists(path) ? "dir" : ManagementRequests.Sha256(File.ReadAllBytes(path));
        }

        return new RepositoryTree(root, entries);
    }

    /// <summary>Asserts the repository holds exactly what it held when <paramref name="before"/> was captured, and no staged leftovers.</summary>
    public static void ShouldBeUnchanged(RepositoryTree before)
    {
        Capture(before.Root).Entries.Should().Equal(before.Entries, "the repository should be exactly as before the failed request");
        WorkAreasShouldBeEmpty(before.Root);
    }

    public static void WorkAreasShouldBeEmpty(string root)
    {
        foreach (var area in WorkAreas)
        {
            var path = Path.Combine(root, area);
            if (Directory.Exists(path))
            {
                Directory.EnumerateFileSystemEntries(path).Should().BeEmpty("{0} should hold no leftovers", area);
            }
        }
    }
}
