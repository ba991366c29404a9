using MaaS.Core.Inference;
using MaaS.Core.Tensors;

namespace MaaS.Core.Explain;

/// <summary>
/// The request's inputs seen row by row (a row is one entry of the batch dim; the whole request for a model without
/// one), with the baseline each element is set to when its feature is absent, in the input's own datatype.
/// </summary>
internal sealed class ExplainInputs
{
    private readonly byte[][] _baselines;

    /// <param name="request">The inputs to explain, decoded and validated for the model that runs them.</param>
    /// <param name="batched">Whether the inputs' first dim is the rows: the model batches, or a pipeline built them so.</param>
    public ExplainInputs(InferRequest request, bool batched)
    {
        Batched = batched;
        Rows = checked((int)request.BatchRows(batched ? 1 : 0));
        Inputs = request.Inputs;
        Priority = request.Priority;
        TimeoutMicroseconds = request.TimeoutMicroseconds;
        RowShapes = new long[Inputs.Count][];
        RowElements = new int[Inputs.Count];
        _baselines = new byte[Inputs.Count][];
        for (var k = 0; k < Inputs.Count; k++)
        {
            var input = Inputs[k];
            if (input.DataType == TensorDataType.Bytes)
            {
                throw ServingException.Invalid($"input '{input.Name}' is BYTES; explanations need inputs of fixed-size elements");
            }

            if (TensorShape.ElementCount(input.Shape) == 0)
            {
                throw ServingException.Invalid($"input '{input.Name}' has shape {TensorShape.Format(input.Shape)}, which holds no elements; every dimension must be 1 or more");
            }

            RowShapes[k] = Batched ? input.Shape[1..] : input.Shape;
            RowElements[k] = checked((int)TensorShape.ElementCount(RowShapes[k]));
            _baselines[k] = new byte[input.Data.Length];
        }
    }

    /// <summary>True when the model has a batch dim: perturbed rows of several evaluations go in one run.</summary>
    public bool Batched { get; }

    public int Rows { get; }

    /// <summary>The client's <c>priority</c> and <c>timeout</c>, which every run of the explanation keeps.</summary>
    public long Priority { get; }

    public long TimeoutMicroseconds { get; }

    public IReadOnlyList<InferInput> Inputs { get; }

    public long[][] RowShapes { get; }

    public int[] RowElements { get; }

    public int RowBytes(int input) => RowElements[input] * Inputs[input].DataType.ElementSize();

    public ReadOnlySpan<byte> Original(int input, int row) => Inputs[input].Data.Span.Slice(row * RowBytes(input), RowBytes(input));

    public ReadOnlySpan<byte> Baseline(int input, int row) => _baselines[input].AsSpan(row * RowBytes(input), RowBytes(input));

    public int IndexOf(string name)
    {
        for (var k = 0; k < Inputs.Count; k++)
        {
            if (Inputs[k].Name == name)
            {
                return k;
            }
        }

        return -1;
    }

    /// <summary>Every element of <paramref name="input"/>'s baseline set to <paramref name="value"/>.</summary>
    public void FillBaseline(int input, double value)
    {
        var type = Inputs[input].DataType;
        var count = _baselines[input].Length / type.ElementSize();
        for (var i = 0; i < count; i++)
        {
            ElementValues.Write(type, _baselines[input], i, value);
        }
    }

    /// <summary>The baseline of <paramref name="input"/> from a client's tensor: the input's whole shape, or one row's shape for every row.</summary>
    public void SetBaseline(int input, long[] shape, double[] data)
    {
        var spec = Inputs[input];
        var wholeShape = shape.AsSpan().SequenceEqual(spec.Shape);
        if (!wholeShape && !(Batched && shape.AsSpan().SequenceEqual(RowShapes[input])))
        {
            throw ServingException.Invalid(
                $"baseline '{spec.Name}' has shape {TensorShape.Format(shape)}; expected the input's shape {TensorShape.Format(spec.Shape)}"
                + (Batched ? $" or one row's shape {TensorShape.Format(RowShapes[input])}" : ""));
        }

        var count = _baselines[input].Length / spec.DataType.ElementSize();
        for (var i = 0; i < count; i++)
        {
            ElementValues.Write(spec.DataType, _baselines[input], i, data[wholeShape ? i : i % RowElements[input]]);
        }
    }
}
