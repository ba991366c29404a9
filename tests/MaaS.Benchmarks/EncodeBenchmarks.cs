using System.Buffers;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using MaaS.Core.Inference;
using MaaS.Core.Tensors;
using Microsoft.ML.OnnxRuntime;

namespace MaaS.Benchmarks;

/// <summary>
/// Encoding an FP32 output tensor of 1 KB, 100 KB and 10 MB, straight from ONNX Runtime's tensor as a run leaves it,
/// as JSON and as binary, against a baseline of System.Text.Json serialising the same floats from a float[] (what a
/// handler returning an array would do). The response buffer is reused, as the response pipe's memory is.
/// </summary>
[MemoryDiagnoser]
public class EncodeBenchmarks : IDisposable
{
    private float[] _values = [];
    private OrtValue _tensor = null!;
    private InferOutput _output = null!;
    private ArrayBufferWriter<byte> _buffer = null!;
    private Utf8JsonWriter _writer = null!;

    /// <summary>Tensor size in bytes (FP32 elements x 4).</summary>
    [Params(1024, 100 * 1024, 10 * 1024 * 1024)]
    public int Bytes { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var count = Bytes / 4;
        _values = [.. Enumerable.Range(0, count).Select(i => (float)Math.Sin(i) * 100f)];
        _tensor = OrtValue.CreateTensorValueFromMemory(_values, [count]);
        _output = new InferOutput("y", TensorDataType.Fp32, [count], binary: true, _tensor, null);
        _buffer = new ArrayBufferWriter<byte>(Bytes * 4);
        _writer = new Utf8JsonWriter(_buffer);
    }

    [GlobalCleanup]
    public void Dispose()
    {
        _writer?.Dispose();
        _tensor?.Dispose();
        GC.SuppressFinalize(this);
    }

    [Benchmark(Baseline = true, Description = "baseline: JsonSerializer <- float[]")]
    public int NaiveJsonEncode() => JsonSerializer.SerializeToUtf8Bytes(_values).Length;

    [Benchmark(Description = "FP32 JSON encode (Utf8JsonWriter, shortest round-trip)")]
    public long JsonEncode()
    {
        _buffer.ResetWrittenCount();
        _writer.Reset();
        _writer.WriteStartArray();
        JsonTensorWriter.WriteElements(_writer, TensorDataType.Fp32, _output.FixedData);
        _writer.WriteEndArray();
        _writer.Flush();
        return _writer.BytesCommitted;
    }

    [Benchmark(Description = "binary encode (ORT tensor -> response buffer)")]
    public int BinaryEncode()
    {
        _buffer.ResetWrittenCount();
        InferResponseWriter.WriteBinary(_buffer, _output);
        return _buffer.WrittenCount;
    }
}
