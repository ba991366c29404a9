using MaaS.Core.Inference;
using MaaS.Core.Sessions;
using MaaS.Core.Tensors;

namespace MaaS.Core.Explain;

/// <summary>
/// Runs perturbed rows through the version's own path (<see cref="OnnxModel.RunAsync"/>: its sessions, or its dynamic
/// batcher), as many rows per run as the model's max_batch_size allows (one per run for a model without a batch dim),
/// one run at a time, and reads the target output of each.
/// </summary>
internal sealed class ForwardPasses(OnnxModel model, ExplainInputs inputs, string output)
{
    /// <summary>Input bytes one run may carry, so that a wide input does not make a huge batch.</summary>
    private const int MaxRunBytes = 16 << 20;

    /// <summary>Forward passes made so far (rows run, not runs).</summary>
    public int Count { get; private set; }

    /// <summary>
    /// The target output's row for each evaluation: its element <paramref name="targetIndex"/>[row] when given, else the
    /// whole row (for choosing the target).
    /// </summary>
    public async Task<double[][]> RunAsync(IReadOnlyList<Evaluation> evaluations, long[]? targetIndex, CancellationToken cancellationToken)
    {
        var values = new double[evaluations.Count][];
        var perRun = RowsPerRun();
        for (var start = 0; start < evaluations.Count; start += perRun)
        {
            var count = Math.Min(perRun, evaluations.Count - start);
            using var request = Build(evaluations, start, count);
            using var result = await model.RunAsync(request, cancellationToken);
            var tensor = result.Outputs[0];
            var data = tensor.FixedData;
            var perRow = tensor.ElementCount / count;
            for (var i = 0; i < count; i++)
            {
                var row = evaluations[start + i].Row;
                values[start + i] = targetIndex is null
                    ? ReadRow(tensor.DataType, data, i * perRow, perRow)
                    : [ElementValues.Read(tensor.DataType, data, (i * perRow) + targetIndex[row])];
            }

            Count += count;
        }

        return values;
    }

    private int RowsPerRun()
    {
        if (!inputs.Batched)
        {
            return 1;
        }

        var rowBytes = 0;
        for (var k = 0; k < inputs.Inputs.Count; k++)
        {
            rowBytes += inputs.RowBytes(k);
        }

        return Math.Clamp(MaxRunBytes / Math.Max(rowBytes, 1), 1, model.Signature.MaxBatchSize);
    }

    private InferRequest Build(IReadOnlyList<Evaluation> evaluations, int start, int count)
    {
        var request = new InferRequest { Priority = inputs.Priority, TimeoutMicroseconds = inputs.TimeoutMicroseconds };
        try
        {
            var buffers = new TensorBuffer[inputs.Inputs.Count];
            for (var k = 0; k < buffers.Length; k++)
            {
                var input = inputs.Inputs[k];
                buffers[k] = TensorBuffer.Rent(count * inputs.RowBytes(k));
                long[] shape = inputs.Batched ? [count, .. inputs.RowShapes[k]] : input.Shape;
                request.Inputs.Add(new InferInput(input.Name, input.DataType, shape, buffers[k]));
            }

            var writer = new RowWriter(inputs, buffers);
            for (var i = 0; i < count; i++)
            {
                var evaluation = evaluations[start + i];
                writer.Start(i, evaluation.Row);
                evaluation.Perturb?.Invoke(writer);
            }

            request.Outputs.Add(new RequestedOutput(output, Binary: true));
            return request;
        }
        catch
        {
            request.Dispose();
            throw;
        }
    }

    private static double[] ReadRow(TensorDataType type, ReadOnlySpan<byte> data, long offset, long count)
    {
        var row = new double[count];
        for (var i = 0; i < count; i++)
        {
            row[i] = ElementValues.Read(type, data, offset + i);
        }

        return row;
    }
}
