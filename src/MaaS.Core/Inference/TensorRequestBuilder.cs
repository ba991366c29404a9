using MaaS.Core.Tensors;

namespace MaaS.Core.Inference;

/// <summary>
/// Builds an <see cref="InferRequest"/> from tensors a protocol has already parsed (gRPC's protobuf messages), with the
/// checks <see cref="InferRequestReader.Read"/> makes: the same names, datatypes, shapes, batch sizes, sizes and
/// messages. Outputs are always binary (gRPC returns raw contents). Disposing it before <see cref="Build"/> returns
/// every buffer taken so far.
/// </summary>
public sealed class TensorRequestBuilder(ModelSignature signature) : IDisposable
{
    private InferRequest? _request = new();
    private InferRequestReader.ParseState _state = new(signature);

    /// <summary>The request being built (id, priority, timeout are set on it directly).</summary>
    public InferRequest Request => _request ?? throw new InvalidOperationException("the request has been built");

    /// <summary>Checks an input's name, datatype and shape against the model; returns its spec. Decode its data next.</summary>
    public TensorSpec ValidateInput(string name, string datatype, long[] shape)
    {
        if (!TensorDataTypes.TryParseProtocolName(datatype, out var type))
        {
            throw ServingException.Invalid(
                $"invalid datatype '{datatype}' for input '{name}'; expected one of BOOL, UINT8, UINT16, UINT32, UINT64, INT8, INT16, INT32, INT64, FP16, FP32, FP64, BYTES, BF16");
        }

        foreach (var dim in shape)
        {
            if (dim < 0)
            {
                throw ServingException.Invalid($"input '{name}': shape has a negative dimension ({dim}); dimensions are sizes, 0 or more");
            }
        }

        return InferRequestReader.ValidateInput(name, type, shape, Request, ref _state);
    }

    /// <summary>The number of elements in a tensor of <paramref name="shape"/> (validated by <see cref="ValidateInput"/> first).</summary>
    public static long ElementCount(long[] shape) => TensorShape.ElementCount(shape);

    /// <summary>Adds an input whose data is already decoded; the buffer belongs to the request from here on.</summary>
    public void AddInput(TensorSpec spec, long[] shape, TensorBuffer data) =>
        Request.Inputs.Add(new InferInput(spec.Name, spec.DataType, shape, data));

    /// <summary>Adds an input from its raw bytes (BYTES: 4-byte length-prefixed elements), checking their size against the shape.</summary>
    public void AddRawInput(TensorSpec spec, long[] shape, ReadOnlyMemory<byte> raw)
    {
        _state.BinaryOffset = 0;
#pragma warning disable CA2000 // the buffer's ownership moves to the InferInput, which the request disposes
        var data = InferRequestReader.SliceBinaryData(raw, raw.Length, spec, shape, TensorShape.ElementCount(shape), ref _state);
#pragma warning restore CA2000
        _state.BinaryOffset = 0;
        AddInput(spec, shape, data);
    }

    /// <summary>Asks for an output (<paramref name="classCount"/> above 0: its top classes instead of the tensor).</summary>
    public void AddOutput(string name, int classCount) =>
        Request.Outputs.Add(InferRequestReader.ValidateOutput(name, binaryData: true, classCount, Request, _state.Signature));

    /// <summary>Checks that every required input came, adds every output when none was asked for, and hands the request over.</summary>
    public InferRequest Build()
    {
        _state.BinaryDataOutput = true;
        _state.SawInputs = true;
        _state.BinaryOffset = 0;
        InferRequestReader.Complete(Request, ReadOnlyMemory<byte>.Empty, ref _state);
        var request = Request;
        _request = null;
        return request;
    }

    public void Dispose() => _request?.Dispose();
}
