using System.Diagnostics;
using System.Globalization;
using Google.Protobuf;
using MaaS.Core.Optimization;
using MaaS.Core.Optimization.Onnx;
using Microsoft.ML.OnnxRuntime;

namespace MaaS.Benchmarks.Optimization;

/// <summary>
/// <c>int8-kernels [--tokens 128] [--layers 6] [--threads 1] [--rounds 15] [--runs 10]</c>: the two forms of a
/// quantised MatMul that <see cref="Int8Transform"/> can write (com.microsoft DynamicQuantizeMatMul, or
/// DynamicQuantizeLinear + MatMulInteger + Cast + Mul) against FP32, on a MiniLM-shaped stack of weight MatMuls
/// (per layer 4 x 384x384, 384x1536, 1536x384), at ONNX Runtime's graph levels "all" (the server's default) and
/// "basic", with the FP16 transform's result for reference. Variants run in interleaved rounds so a busy machine slows them alike; medians per run are printed.
/// </summary>
internal static class Int8KernelComparison
{
    private const int Hidden = 384;

    public static int Run(string[] args, TextWriter output)
    {
        var tokens = Option(args, "--tokens", 128);
        var layers = Option(args, "--layers", 6);
        var threads = Option(args, "--threads", 1);
        var rounds = Option(args, "--rounds", 15);
        var runs = Option(args, "--runs", 10);
        var directory = Directory.CreateTempSubdirectory("maas-int8-kernels-");
        try
        {
            var fp32 = Path.Combine(directory.FullName, "fp32.onnx");
            File.WriteAllBytes(fp32, Model(layers).ToByteArray());
            var fused = Path.Combine(directory.FullName, "dqmm.onnx");
            var standard = Path.Combine(directory.FullName, "matmulinteger.onnx");
            new Int8Transform(Int8MatMulKernel.DynamicQuantizeMatMul).Apply(fp32, fused, CancellationToken.None);
            new Int8Transform(Int8MatMulKernel.MatMulInteger).Apply(fp32, standard, CancellationToken.None);
            var half = Path.Combine(directory.FullName, "fp16.onnx");
            new Fp16Transform().Apply(fp32, half, CancellationToken.None);

            var input = new float[tokens * Hidden];
            var random = new Random(1);
            for (var i = 0; i < input.Length; i++)
            {
                input[i] = (float)(random.NextDouble() * 2 - 1);
            }

            var variants = new List<Variant>();
            try
            {
                foreach (var level in new[] { GraphOptimizationLevel.ORT_ENABLE_ALL, GraphOptimizationLevel.ORT_ENABLE_BASIC })
                {
                    variants.Add(new Variant($"fp32 {Level(level)}", fp32, level, threads));
                    variants.Add(new Variant($"DynamicQuantizeMatMul {Level(level)}", fused, level, threads));
                    variants.Add(new Variant($"MatMulInteger {Level(level)}", standard, level, threads));
                }

                // For reference: FP16 on the CPU (the runtime computes most FP16 nodes through casts to FP32).
                variants.Add(new Variant("fp16 (all)", half, GraphOptimizationLevel.ORT_ENABLE_ALL, threads));

                using var tensor = OrtValue.CreateTensorValueFromMemory(input, [1, tokens, Hidden]);
                variants.ForEach(variant => variant.Time(tensor, 3));
                for (var round = 0; round < rounds; round++)
                {
                    variants.ForEach(variant => variant.Time(tensor, runs));
                }

                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{layers} layers, [1, {tokens}, {Hidden}] input, {threads} intra-op thread(s), {rounds} x {runs} interleaved runs; sizes fp32 {new FileInfo(fp32).Length}, DynamicQuantizeMatMul {new FileInfo(fused).Length}, MatMulInteger {new FileInfo(standard).Length} bytes"));
                foreach (var variant in variants)
                {
                    output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{variant.Name,-30} median {variant.MedianMicroseconds,10:F0} us"));
                }
            }
            finally
            {
                variants.ForEach(variant => variant.Dispose());
            }
        }
        finally
        {
            directory.Delete(recursive: true);
        }

        return 0;
    }

    private static string Level(GraphOptimizationLevel level) => level == GraphOptimizationLevel.ORT_ENABLE_ALL ? "(all)" : "(basic)";

    private static int Option(string[] args, string name, int fallback)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? int.Parse(args[index + 1], CultureInfo.InvariantCulture) : fallback;
    }

    private static ModelProto Model(int layers)
    {
        var random = new Random(7);
        var graph = new GraphProto { Name = "minilm_shaped" };
        graph.Input.Add(Value("x"));
        graph.Output.Add(Value("y"));
        var current = "x";
        var index = 0;
        for (var layer = 0; layer < layers; layer++)
        {
            foreach (var (rows, columns) in new[] { (Hidden, Hidden), (Hidden, Hidden), (Hidden, Hidden), (Hidden, Hidden), (Hidden, 4 * Hidden), (4 * Hidden, Hidden) })
            {
                var weight = $"w{index}";
                var values = new float[rows * columns];
                for (var i = 0; i < values.Length; i++)
                {
                    values[i] = (float)(random.NextDouble() * 2 - 1) / MathF.Sqrt(rows);
                }

                graph.Initializer.Add(OnnxTensors.Make<float>(weight, OnnxTensors.Float, [rows, columns], values));
                var product = $"p{index}";
                graph.Node.Add(OnnxNodes.Node("MatMul", $"matmul{index}", [current, weight], [product]));
                current = layer == layers - 1 && columns == Hidden && rows == 4 * Hidden ? "y" : $"h{index}";
                graph.Node.Add(OnnxNodes.Node("Relu", $"relu{index}", [product], [current]));
                index++;
            }
        }

        var model = new ModelProto { IrVersion = 8, Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 17 });
        return model;
    }

    private static ValueInfoProto Value(string name)
    {
        var shape = new TensorShapeProto();
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = 1 });
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = "tokens" });
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = Hidden });
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = OnnxTensors.Float, Shape = shape } } };
    }

    private sealed class Variant : IDisposable
    {
        private readonly SessionOptions _options;
        private readonly InferenceSession _session;
        private readonly List<double> _microseconds = [];

        public Variant(string name, string path, GraphOptimizationLevel level, int threads)
        {
            Name = name;
            _options = new SessionOptions { GraphOptimizationLevel = level, IntraOpNumThreads = threads, InterOpNumThreads = 1 };
            _session = new InferenceSession(path, _options);
        }

        public string Name { get; }

        public double MedianMicroseconds => _microseconds.Order().ElementAt(_microseconds.Count / 2);

        public void Time(OrtValue input, int runs)
        {
            using var runOptions = new RunOptions();
            for (var i = 0; i < runs; i++)
            {
                var start = Stopwatch.GetTimestamp();
                using (var outputs = _session.Run(runOptions, ["x"], [input], ["y"]))
                {
                }

                _microseconds.Add(Stopwatch.GetElapsedTime(start).TotalMicroseconds);
            }
        }

        public void Dispose()
        {
            _session.Dispose();
            _options.Dispose();
        }
    }
}
