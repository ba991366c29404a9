using System.Text;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using MaaS.Core.Inference;
using MaaS.Core.Tensors;

namespace MaaS.Benchmarks;

/// <summary>
/// Decoding an FP32 input tensor of 1 KB, 100 KB and 10 MB from a V2 request, as JSON and as binary, against a
/// baseline of System.Text.Json deserialising the same numbers into a float[] (what a naive handler would do).
/// MB/s: the tensor's bytes divided by the mean time; allocation per operation from the memory diagnoser.
/// </summary>
[MemoryDiagnoser]
public class CodecBenchmarks
{
    private byte[] _json = [];
    private byte[] _header = [];
    private byte[] _binary = [];
    private ReadOnlyMemory<byte> _body;
    private byte[] _dataOnly = [];
    private ModelSignature _signature = null!;

    /// <summary>Tensor size in bytes (FP32 elements x 4).</summary>
    [Params(1024, 100 * 1024, 10 * 1024 * 1024)]
    public int Bytes { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var count = Bytes / 4;
        var values = Enumerable.Range(0, count).Select(i => (float)Math.Sin(i) * 100f).ToArray();
        _signature = new ModelSignature(0, [new TensorSpec("x", TensorDataType.Fp32, [count])], [new TensorSpec("y", TensorDataType.Fp32, [1])]);
        var data = JsonSerializer.Serialize(values);
        _dataOnly = Encoding.UTF8.GetBytes(data);
        _json = Encoding.UTF8.GetBytes($$"""{"inputs":[{"name":"x","datatype":"FP32","shape":[{{count}}],"data":{{data}}}],"outputs":[{"name":"y"}]}""");
        _header = Encoding.UTF8.GetBytes(
            "{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[" + count + "],\"parameters\":{\"binary_data_size\":" + Bytes + "}}],\"outputs\":[{\"name\":\"y\"}]}");
        // Pad the header to a multiple of 4 so the binary part is aligned, as a client that cares would.
        var padding = (4 - (_header.Length % 4)) % 4;
        _header = [.. _header, .. Enumerable.Repeat((byte)' ', padding)];
        _binary = new byte[Bytes];
        Buffer.BlockCopy(values, 0, _binary, 0, Bytes);
        _body = new ReadOnlyMemory<byte>([.. _header, .. _binary]);
    }

    [Benchmark(Baseline = true, Description = "baseline: JsonSerializer -> float[]")]
    public float[] NaiveJsonDecode() => JsonSerializer.Deserialize<float[]>(_dataOnly)!;

    [Benchmark(Description = "V2 JSON decode (Utf8JsonReader -> pooled buffer)")]
    public int JsonDecode()
    {
        using var request = InferRequestReader.Read(_json, ReadOnlyMemory<byte>.Empty, _signature);
        return request.Inputs[0].Data.Length;
    }

    [Benchmark(Description = "V2 binary decode (in place)")]
    public int BinaryDecode()
    {
        using var request = InferRequestReader.Read(_body.Span[.._header.Length], _body[_header.Length..], _signature);
        return request.Inputs[0].Data.Length;
    }
}
