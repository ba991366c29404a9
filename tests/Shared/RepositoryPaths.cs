namespace MaaS.Testing;

/// <summary>Paths of the committed model repositories, found from the test binary up to the solution root.</summary>
internal static class RepositoryPaths
{
    public static string Root { get; } = FindRoot();

    /// <summary>
    /// The bundled repository: mlp, cnn, rnn, transformer, linear, logistic, digits (an image pipeline over cnn), and
    /// all-minilm-l6-v2 (a text-embedding pipeline) around all-minilm-l6-v2-onnx, whose files src/MaaS.Server's build writes.
    /// </summary>
    public static string Models => Path.Combine(Root, "models");

    /// <summary>
    /// The bundled repository without the two all-MiniLM-L6-v2 models, copied beside the test binaries by the server
    /// and client test projects: what their test servers serve by default, so that each does not load a 90 MB model.
    /// </summary>
    public static string SmallModels => Path.Combine(AppContext.BaseDirectory, "small-models");

    /// <summary>PyTorch reference vectors of the bundled models: reference/&lt;model&gt;/&lt;version&gt;.json.</summary>
    public static string References => Path.Combine(Root, "models", "tools", "reference");

    /// <summary>Models of other shapes and datatypes, each with reference.json.</summary>
    public static string Zoo => Path.Combine(Root, "tests", "fixtures", "zoo");

    /// <summary>Zoo models configured by Triton's config.pbtxt.</summary>
    public static string Pbtxt => Path.Combine(Root, "tests", "fixtures", "pbtxt");

    /// <summary>The config.json twin of each config.pbtxt model: &lt;model&gt;.json.</summary>
    public static string PbtxtTwins => Path.Combine(Root, "tests", "fixtures", "pbtxt-twins");

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "MaaS.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("MaaS.sln not found above " + AppContext.BaseDirectory);
    }
}
