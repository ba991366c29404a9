using MaaS.Core.Optimization;
using MaaS.Core.Optimization.Onnx;
using MaaS.Core.Tests.Optimization;
using MaaS.Server.Tests.Infrastructure;

namespace MaaS.Server.Tests.Pipelines;

/// <summary>
/// The server on a repository of a tiny text-embedding pipeline, <c>tiny</c>, around <c>tiny-onnx</c>, a model built here
/// whose token states are a table lookup: "cat" is (0, 1), "mat" is (1, 0), every other token (0, 0), times the
/// attention mask. Under the pipeline's mean pooling only "cat" and "mat" move the embedding; in a text holding "cat"
/// and no "mat" only "cat" matters. Explanations are limited to <see cref="MaxEvaluations"/> forward passes.
/// </summary>
public sealed class TinyTextPipelineApplication : MaaSApplication
{
    public const string Pipeline = "tiny";
    public const string Inner = "tiny-onnx";
    public const int MaxEvaluations = 24;

    /// <summary>The vocabulary, one token per line: the id of a token is its index.</summary>
    public static readonly string[] Vocabulary = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "cat", "sat", "on", "mat", "a", "##s"];

    public TinyTextPipelineApplication()
        : this(Build())
    {
    }

    private TinyTextPipelineApplication(string repository)
        : base(repository, new Dictionary<string, string?> { ["MaaS:Explain:MaxEvaluations"] = MaxEvaluations.ToString(System.Globalization.CultureInfo.InvariantCulture) }) =>
        Repository = repository;

    public string Repository { get; }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        Directory.Delete(Repository, recursive: true);
    }

    private static string Build()
    {
        var root = Path.Combine(Path.GetTempPath(), "maas-tiny-pipeline-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path.Combine(root, Inner, "1"));
        Directory.CreateDirectory(Path.Combine(root, Pipeline));
        TestGraphs.Save(TokenStates(), Path.Combine(root, Inner, "1", "model.onnx"));
        File.WriteAllText(Path.Combine(root, Pipeline, "vocab.txt"), string.Join('\n', Vocabulary) + "\n");
        // At most 4 rows per run, so that an explanation's evaluations take several runs.
        File.WriteAllText(Path.Combine(root, Inner, "config.json"), """
            {"max_batch_size": 4,
             "input": [{"name": "input_ids", "data_type": "TYPE_INT64", "dims": [-1]},
                       {"name": "attention_mask", "data_type": "TYPE_INT64", "dims": [-1]}],
             "output": [{"name": "last_hidden_state", "data_type": "TYPE_FP32", "dims": [-1, 2]}]}
            """);
        File.WriteAllText(Path.Combine(root, Pipeline, "config.json"), $$"""
            {"pipeline": {"inner_model": "{{Inner}}", "text": {"max_length": 16}, "pooling": {"mode": "mean", "normalize": true} } }
            """);
        return root;
    }

    /// <summary>input_ids, attention_mask INT64 [b, s] -> last_hidden_state FP32 [b, s, 2] = table[input_ids] x attention_mask.</summary>
    private static ModelProto TokenStates()
    {
        var table = new float[Vocabulary.Length * 2];
        table[(Array.IndexOf(Vocabulary, "cat") * 2) + 1] = 1;
        table[Array.IndexOf(Vocabulary, "mat") * 2] = 1;
        var graph = new GraphProto { Name = "token_states" };
        graph.Input.Add(TestGraphs.Value("input_ids", OnnxTensors.Int64, "b", "s"));
        graph.Input.Add(TestGraphs.Value("attention_mask", OnnxTensors.Int64, "b", "s"));
        graph.Output.Add(TestGraphs.Value("last_hidden_state", OnnxTensors.Float, "b", "s", 2));
        graph.Initializer.Add(OnnxTensors.Make<float>("table", OnnxTensors.Float, [Vocabulary.Length, 2], table));
        graph.Initializer.Add(OnnxTensors.Make<long>("last_axis", OnnxTensors.Int64, [1], [2L]));
        graph.Node.Add(OnnxNodes.Node("Gather", "lookup", ["table", "input_ids"], ["states"]));
        graph.Node.Add(OnnxNodes.Node("Cast", "mask_float", ["attention_mask"], ["mask"]).WithInt("to", OnnxTensors.Float));
        graph.Node.Add(OnnxNodes.Node("Unsqueeze", "mask_column", ["mask", "last_axis"], ["mask3"]));
        graph.Node.Add(OnnxNodes.Node("Mul", "masked", ["states", "mask3"], ["last_hidden_state"]));
        return TestGraphs.Model(graph);
    }
}
