using Google.Protobuf;
using MaaS.Core.Optimization;
using MaaS.Core.Optimization.Onnx;
using MaaS.Server.Tests.Infrastructure;

namespace MaaS.Client.Tests.Infrastructure;

/// <summary>
/// The server on a repository built here: <c>words</c>, a text-embedding pipeline with a 16-token vocabulary, around
/// <c>words-onnx</c>, whose last_hidden_state is each token's row of <see cref="Table"/> (masked positions zero).
/// The expected embedding of a text is then the normalised mean of its tokens' rows, computed by the test from the
/// table and the vocabulary, independently of the server's tokenizer and pooling.
/// </summary>
public sealed class TextApplication : MaaSApplication
{
    public const string Pipeline = "words";
    public const string Inner = "words-onnx";
    public const int Hidden = 4;

    public static readonly string[] Vocabulary =
        ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "cat", "sits", "on", "mat", "a", "dog", "plays", ".", "in", "park"];

    public TextApplication()
        : this(Path.Combine(Path.GetTempPath(), "maas-words-" + Guid.NewGuid().ToString("N")))
    {
    }

    private TextApplication(string repository)
        : base(Build(repository)) => Repository = repository;

    /// <summary>Row t is token t's state: seeded values, fixed for every run.</summary>
    public static float[,] Table { get; } = MakeTable();

    public string Repository { get; }

    /// <summary>The embedding a text must have: [CLS] words [SEP], each word looked up as is (lower case, '.' split off).</summary>
    public static float[] ExpectedEmbedding(string text)
    {
        var words = text.ToLowerInvariant().Replace(".", " .", StringComparison.Ordinal).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var ids = new[] { 2 }.Concat(words.Select(w => Array.IndexOf(Vocabulary, w))).Append(3).ToList();
        ids.Should().NotContain(-1, "the test texts use the vocabulary's words only");
        var mean = new double[Hidden];
        foreach (var id in ids)
        {
            for (var h = 0; h < Hidden; h++)
            {
                mean[h] += Table[id, h] / (double)ids.Count;
            }
        }

        var norm = Math.Sqrt(mean.Sum(v => v * v));
        return mean.Select(v => (float)(v / norm)).ToArray();
    }

    public static int TokenCount(string text) => text.Replace(".", " .", StringComparison.Ordinal).Split(' ', StringSplitOptions.RemoveEmptyEntries).Length + 2;

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        Directory.Delete(Repository, recursive: true);
    }

    private static float[,] MakeTable()
    {
        var random = new Random(17);
        var table = new float[Vocabulary.Length, Hidden];
        for (var t = 0; t < Vocabulary.Length; t++)
        {
            for (var h = 0; h < Hidden; h++)
            {
                table[t, h] = (float)(random.NextDouble() * 2 - 1);
            }
        }

        return table;
    }

    private static string Build(string root)
    {
        Directory.CreateDirectory(Path.Combine(root, Inner, "1"));
        Directory.CreateDirectory(Path.Combine(root, Pipeline));
        File.WriteAllBytes(Path.Combine(root, Inner, "1", "model.onnx"), InnerModel().ToByteArray());
        File.WriteAllText(Path.Combine(root, Inner, "config.json"), $$"""
            {"max_batch_size": 8,
             "input": [{"name": "input_ids", "data_type": "TYPE_INT64", "dims": [-1]},
                       {"name": "attention_mask", "data_type": "TYPE_INT64", "dims": [-1]}],
             "output": [{"name": "last_hidden_state", "data_type": "TYPE_FP32", "dims": [-1, {{Hidden}}]}]}
            """);
        File.WriteAllText(Path.Combine(root, Pipeline, "vocab.txt"), string.Join('\n', Vocabulary) + "\n");
        File.WriteAllText(Path.Combine(root, Pipeline, "config.json"), $$"""
            {"pipeline": {"inner_model": "{{Inner}}",
                          "text": {"vocab": "vocab.txt", "lower_case": true, "max_length": 16},
                          "pooling": {"mode": "mean", "normalize": true} } }
            """);
        return root;
    }

    /// <summary>input_ids, attention_mask INT64 [b, s] -> Gather(table, input_ids) * mask -> last_hidden_state FP32 [b, s, 4].</summary>
    private static ModelProto InnerModel()
    {
        var graph = new GraphProto { Name = "words" };
        graph.Input.Add(Value("input_ids", OnnxTensors.Int64, "b", "s"));
        graph.Input.Add(Value("attention_mask", OnnxTensors.Int64, "b", "s"));
        graph.Output.Add(Value("last_hidden_state", OnnxTensors.Float, "b", "s", Hidden));
        graph.Initializer.Add(OnnxTensors.Make<float>("table", OnnxTensors.Float, [Vocabulary.Length, Hidden], Table.Cast<float>().ToArray()));
        graph.Initializer.Add(OnnxTensors.Make<long>("last_axis", OnnxTensors.Int64, [1], [-1L]));
        graph.Node.Add(OnnxNodes.Node("Gather", "lookup", ["table", "input_ids"], ["rows"]));
        graph.Node.Add(OnnxNodes.Node("Cast", "mask_float", ["attention_mask"], ["mask_f"]).WithInt("to", OnnxTensors.Float));
        graph.Node.Add(OnnxNodes.Node("Unsqueeze", "mask_3d", ["mask_f", "last_axis"], ["mask_3d"]));
        graph.Node.Add(OnnxNodes.Node("Mul", "masked", ["rows", "mask_3d"], ["last_hidden_state"]));
        var model = new ModelProto { IrVersion = 8, ProducerName = "maas-client-tests", Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 17 });
        return model;
    }

    private static ValueInfoProto Value(string name, int elementType, params object[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (var dim in dims)
        {
            shape.Dim.Add(dim is string symbol
                ? new TensorShapeProto.Types.Dimension { DimParam = symbol }
                : new TensorShapeProto.Types.Dimension { DimValue = (int)dim });
        }

        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = elementType, Shape = shape } } };
    }
}

public sealed class TextServer() : ServerWithClient(new TextApplication());
