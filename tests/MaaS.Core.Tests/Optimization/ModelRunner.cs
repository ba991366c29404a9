using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace MaaS.Core.Tests.Optimization;

/// <summary>One input tensor: its element type and shape, and the values as the matching .NET array.</summary>
internal sealed record TestInput(string Name, TensorElementType Type, long[] Shape, Array Data);

/// <summary>One output: element type, shape, values widened to double for comparison.</summary>
internal sealed record TestOutput(TensorElementType Type, long[] Shape, double[] Values);

/// <summary>Opens a model with ONNX Runtime (CPU), runs it once, and copies every output out before disposal.</summary>
internal static class ModelRunner
{
    public static Dictionary<string, TestOutput> Run(string modelPath, IReadOnlyList<TestInput> inputs)
    {
        using var options = new SessionOptions();
        using var session = new InferenceSession(modelPath, options);
        var values = new List<OrtValue>();
        try
        {
            values.AddRange(inputs.Select(Create));
            using var runOptions = new RunOptions();
            var names = session.OutputNames;
            using var outputs = session.Run(runOptions, inputs.Select(input => input.Name).ToArray(), values, names);
            var results = new Dictionary<string, TestOutput>(StringComparer.Ordinal);
            for (var i = 0; i < names.Count; i++)
            {
                var info = outputs[i].GetTensorTypeAndShape();
                results[names[i]] = new TestOutput(info.ElementDataType, info.Shape, Widen(info.ElementDataType, outputs[i].GetTensorMutableRawData()));
            }

            return results;
        }
        finally
        {
            values.ForEach(value => value.Dispose());
        }
    }

    /// <summary>Deterministic inputs from the model's own input metadata: symbolic dimensions become 2 (first) or 5.</summary>
    public static List<TestInput> InputsFor(string modelPath, int seed)
    {
        using var session = new InferenceSession(modelPath);
        var random = new Random(seed);
        var inputs = new List<TestInput>();
        foreach (var (name, metadata) in session.InputMetadata)
        {
            var shape = metadata.Dimensions.Select((dim, axis) => dim >= 0 ? (long)dim : axis == 0 ? 2L : 5L).ToArray();
            var count = (int)shape.Aggregate(1L, (a, b) => a * b);
            var isMask = name.Contains("mask", StringComparison.OrdinalIgnoreCase);
            Array data = metadata.ElementDataType switch
            {
                TensorElementType.Float => Enumerable.Range(0, count).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray(),
                TensorElementType.Double => Enumerable.Range(0, count).Select(_ => random.NextDouble() * 2 - 1).ToArray(),
                TensorElementType.Float16 => Enumerable.Range(0, count).Select(_ => new Float16(BitConverter.HalfToUInt16Bits((Half)(random.NextDouble() * 2 - 1)))).ToArray(),
                TensorElementType.Int64 => Enumerable.Range(0, count).Select(_ => isMask ? 1L : random.Next(0, 16)).ToArray(),
                TensorElementType.Int32 => Enumerable.Range(0, count).Select(_ => isMask ? 1 : random.Next(0, 16)).ToArray(),
                TensorElementType.UInt8 => Enumerable.Range(0, count).Select(_ => (byte)random.Next(0, 200)).ToArray(),
                TensorElementType.Bool => Enumerable.Range(0, count).Select(_ => isMask || random.Next(2) == 1).ToArray(),
                var other => throw new NotSupportedException($"input type {other}"),
            };
            inputs.Add(new TestInput(name, metadata.ElementDataType, shape, data));
        }

        return inputs;
    }

    private static OrtValue Create(TestInput input) => input.Data switch
    {
        float[] data => OrtValue.CreateTensorValueFromMemory(data, input.Shape),
        double[] data => OrtValue.CreateTensorValueFromMemory(data, input.Shape),
        Float16[] data => OrtValue.CreateTensorValueFromMemory(data, input.Shape),
        long[] data => OrtValue.CreateTensorValueFromMemory(data, input.Shape),
        int[] data => OrtValue.CreateTensorValueFromMemory(data, input.Shape),
        byte[] data => OrtValue.CreateTensorValueFromMemory(data, input.Shape),
        bool[] data => OrtValue.CreateTensorValueFromMemory(data, input.Shape),
        _ => throw new NotSupportedException(input.Data.GetType().Name),
    };

    private static double[] Widen(TensorElementType type, Span<byte> raw) => type switch
    {
        TensorElementType.Float => MemoryMarshal.Cast<byte, float>(raw).ToArray().Select(value => (double)value).ToArray(),
        TensorElementType.Double => MemoryMarshal.Cast<byte, double>(raw).ToArray(),
        TensorElementType.Float16 => MemoryMarshal.Cast<byte, Half>(raw).ToArray().Select(value => (double)value).ToArray(),
        TensorElementType.Int64 => MemoryMarshal.Cast<byte, long>(raw).ToArray().Select(value => (double)value).ToArray(),
        TensorElementType.Int32 => MemoryMarshal.Cast<byte, int>(raw).ToArray().Select(value => (double)value).ToArray(),
        TensorElementType.UInt8 or TensorElementType.Bool => raw.ToArray().Select(value => (double)value).ToArray(),
        _ => throw new NotSupportedException($"output type {type}"),
    };
}
