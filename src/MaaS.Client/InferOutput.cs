using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;

namespace MaaS.Client;

/// <summary>
/// An output tensor. Its elements stay in the response buffer (binary outputs) or in one buffer decoded from the
/// JSON <c>data</c>: <see cref="AsSpan{T}"/> reads them without a copy or an allocation per element.
/// </summary>
public sealed class InferOutput
{
    internal InferOutput(string name, string datatype, long[] shape, ReadOnlyMemory<byte> data)
    {
        Name = name;
        Datatype = datatype;
        Shape = shape;
        Data = data;
    }

    public string Name { get; }

    public string Datatype { get; }

    public IReadOnlyList<long> Shape { get; }

    /// <summary>The elements in the binary tensor extension's layout.</summary>
    public ReadOnlyMemory<byte> Data { get; }

    public long ElementCount => InferInput.ElementCount(Shape);

    /// <summary>The elements as <typeparamref name="T"/>, which must be the datatype's type (<see cref="Datatypes.Of{T}"/>).</summary>
    public ReadOnlySpan<T> AsSpan<T>()
        where T : unmanaged
    {
        var datatype = Datatypes.Of<T>();
        if (datatype != Datatype)
        {
            throw new InvalidOperationException($"output '{Name}' is {Datatype}, not {datatype}");
        }

        return MemoryMarshal.Cast<byte, T>(Data.Span);
    }

    public T[] ToArray<T>()
        where T : unmanaged => AsSpan<T>().ToArray();

    /// <summary>The elements of a BYTES output, each a slice of the buffer.</summary>
    public IReadOnlyList<ReadOnlyMemory<byte>> GetByteElements()
    {
        if (Datatype != Datatypes.Bytes)
        {
            throw new InvalidOperationException($"output '{Name}' is {Datatype}, not BYTES");
        }

        var elements = new List<ReadOnlyMemory<byte>>();
        var offset = 0;
        while (offset < Data.Length)
        {
            var length = BinaryPrimitives.ReadInt32LittleEndian(Data.Span[offset..]);
            elements.Add(Data.Slice(offset + 4, length));
            offset += 4 + length;
        }

        return elements;
    }

    /// <summary>The elements of a BYTES output as UTF-8 strings (classification results among them).</summary>
    public IReadOnlyList<string> GetStrings() => GetByteElements().Select(e => Encoding.UTF8.GetString(e.Span)).ToList();
}

/// <summary>The answer to an inference: the model version that ran and the outputs in the server's order.</summary>
public sealed class InferResult
{
    internal InferResult(string modelName, string modelVersion, string? id, IReadOnlyList<InferOutput> outputs)
    {
        ModelName = modelName;
        ModelVersion = modelVersion;
        Id = id;
        Outputs = outputs;
    }

    public string ModelName { get; }

    public string ModelVersion { get; }

    public string? Id { get; }

    public IReadOnlyList<InferOutput> Outputs { get; }

    public InferOutput this[string name] =>
        Outputs.FirstOrDefault(o => o.Name == name) ?? throw new KeyNotFoundException($"no output '{name}'");
}

/// <summary>
/// An output asked for by name, optionally as its top <see cref="Classification"/> classes; <see cref="Binary"/>
/// overrides the request's form for this output (null: as <see cref="InferOptions.Binary"/>).
/// </summary>
public sealed record RequestedOutput(string Name, int? Classification = null, bool? Binary = null);

/// <summary>How an inference is sent and answered.</summary>
public sealed record InferOptions
{
    /// <summary>The version: newest READY by default, or a number, or a label.</summary>
    public ModelVersion Version { get; init; }

    /// <summary>
    /// Tensors as the binary extension (default) or as JSON <c>data</c>. FP16/BF16 tensors, which JSON cannot carry,
    /// stay binary: inputs always, outputs by asking for them so (with <see cref="Outputs"/> null the client reads
    /// the model's metadata to find them).
    /// </summary>
    public bool Binary { get; init; } = true;

    /// <summary>Outputs to return; null returns every output.</summary>
    public IReadOnlyList<RequestedOutput>? Outputs { get; init; }

    /// <summary>Echoed in the answer.</summary>
    public string? Id { get; init; }
}
