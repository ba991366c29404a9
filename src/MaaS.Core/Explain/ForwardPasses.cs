using MaaS.Core.Inference;
using MaaS.Core.Sessions;
using MaaS.Core.Tensors;

namespace MaaS.Core.Explain;

/// <summary>
/// Runs perturbed rows through the version's own path (<see cref="OnnxModel.RunAsync"/>: its sessions, or its dynamic
/// batcher), as many rows per run as the model's max_batch_size allows (one per run for a model without a batch dim),
/// one run at a time, and reads each row through the readout.
/// </summary>
internal sealed class ForwardPasses(OnnxModel model, ExplainInputs inputs, ExplainReadout readout)
{
    /// <summary>Input bytes one run may carry, so that a wide input does not make a huge batch.</summary>
    private const int MaxRunBytes = 16 << 20;

    /// <summary>Forward passes made so far (rows run, not runs).</summary>
    public int Count { get; private set; }

    /// <summary>The readout's whole row for each evaluation (for choosing the target).</summary>
    public async Task<double[][]> RunRowsAsync(IReadOnlyList<Evaluation> evaluations, CancellationToken cancellationToken)
    {
        var rows = new double[evaluations.Count][];
        await RunAsync(evaluations, (slot, i) => rows[i] = readout.Row(slot.Run, slot.Output, slot.Index, slot.Count), cancellationToken);
        return rows;
    }

    /// <summary>The target's value for each evaluation.</summary>
    public async Task<double[]> RunAsync(IReadOnlyList<Evaluation> evaluations, ExplainTarget target, CancellationToken cancellationToken)
    {
        var values = new double[evaluations.Count];
        await RunAsync(evaluations, (slot, i) => values[i] = target.Value(readout, slot, evaluations[i].Row), cancellationToken);
        return values;
    }

    private async Task RunAsync(IReadOnlyList<Evaluation> evaluations, Action<Slot, int> read, CancellationToken cancellationToken)
    {
        var perRun = RowsPerRun();
        for (var start = 0; start < evaluations.Count; start += perRun)
        {
            var count = Math.Min(perRun, evaluations.Count - start);
            using var request = Build(evaluations, start, count);
            using var result = await model.RunAsync(request, cancellationToken);
            for (var i = 0; i < count; i++)
            {
                read(new Slot(request, result.Outputs[0], i, count), start + i);
            }

            Count += count;
        }
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

        // A pipeline explains row by row through an inner model without a batch dim: one row per run.
        return Math.Clamp(MaxRunBytes / Math.Max(rowBytes, 1), 1, Math.Max(model.Signature.MaxBatchSize, 1));
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

            request.Outputs.Add(new RequestedOutput(readout.Output, Binary: true));
            return request;
        }
        catch
        {
            request.Dispose();
            throw;
        }
    }

    /// <summary>Slot <see cref="Index"/> of a run of <see cref="Count"/> rows: the inputs it ran with and the run's output.</summary>
    internal readonly record struct Slot(InferRequest Run, InferOutput Output, int Index, int Count);
}
