using System.Diagnostics;
using MaaS.Core.Batching;
using MaaS.Core.Inference;
using MaaS.Core.Tensors;
using Microsoft.ML.OnnxRuntime;

namespace MaaS.Core.Sessions;

/// <summary>Dynamic batching: the queued requests of a batch run as one tensor per input, and each gets its own rows of the outputs back.</summary>
public sealed partial class OnnxModel
{
    /// <summary>Starts the batch queue and one worker per instance; from now on every request goes through the queue.</summary>
    internal void StartBatching(BatchingPolicy policy, TimeProvider time, string name) =>
        _batcher = new DynamicBatcher(new BatchQueue(policy, time), _pool.Count, name, ExecuteBatch);

    /// <summary>Runs a batch on instance <paramref name="worker"/> (the worker's own) and completes each of its requests.</summary>
    private void ExecuteBatch(int worker, IReadOnlyList<QueuedRequest> batch)
    {
        var session = _pool.Sessions[worker];
        if (batch.Count > 1)
        {
            try
            {
                RunTogether(session, batch);
                return;
            }
            catch (ServingException ex) when (ex.Kind == FailureKind.InvalidInput)
            {
                // ONNX Runtime refused the values of one of them (an index outside a table, say): run each alone, so
                // that only the request at fault fails and batching never costs a good request its answer.
            }
        }

        foreach (var entry in batch)
        {
            RunAlone(session, entry);
        }
    }

    private void RunAlone(InferenceSession session, QueuedRequest entry)
    {
        InferResult result;
        try
        {
#pragma warning disable CA2000 // handed to the request's caller, who disposes it
            result = RunOn(session, entry.Request, entry.CancellationToken);
#pragma warning restore CA2000
        }
        catch (OperationCanceledException)
        {
            entry.Cancel();
            return;
        }
#pragma warning disable CA1031 // the worker's boundary: the request's caller gets the error and rethrows it where it is handled
        catch (Exception ex)
#pragma warning restore CA1031
        {
            entry.Fail(ex);
            return;
        }

        result.Timings = result.Timings with { Queue = entry.QueueTime };
        entry.Complete(result);
    }

    private void RunTogether(InferenceSession session, IReadOnlyList<QueuedRequest> batch)
    {
        var started = Stopwatch.GetTimestamp();
        var first = batch[0].Request;
        long rows = 0;
        foreach (var entry in batch)
        {
            rows += entry.Rows;
        }

        var inputs = new List<InferInput>(first.Inputs.Count);
        using var cancellation = new BatchCancellation(batch);
        try
        {
            for (var i = 0; i < first.Inputs.Count; i++)
            {
                inputs.Add(Concatenate(first.Inputs[i], i, batch, rows));
            }

            var outputs = UnionOfOutputs(batch);
            var (values, prepared, ran) = Execute(session, inputs, outputs, cancellation.Token);
            var results = Split(values, outputs, batch, rows);
            var timings = new RunTimings(
                TimeSpan.Zero, Stopwatch.GetElapsedTime(started, prepared), Stopwatch.GetElapsedTime(prepared, ran), Stopwatch.GetElapsedTime(ran));
            for (var i = 0; i < batch.Count; i++)
            {
                results[i].Timings = timings with { Queue = batch[i].QueueTime };
                results[i].ExecutedBatchSize = rows;
                results[i].CountsExecution = i == 0;
                batch[i].Complete(results[i]);
            }
        }
        catch (OperationCanceledException) when (cancellation.Token.IsCancellationRequested)
        {
            foreach (var entry in batch)
            {
                entry.Cancel();
            }
        }
        finally
        {
            foreach (var input in inputs)
            {
                input.Dispose();
            }
        }
    }

    /// <summary>One input of the batch: the requests' tensors one after another along the batch dimension (the one copy batching costs).</summary>
    private static InferInput Concatenate(InferInput first, int index, IReadOnlyList<QueuedRequest> batch, long rows)
    {
        if (batch[0].Request.PadsSequences && first.Shape.Length >= 2)
        {
            long shortest = long.MaxValue, longest = 0;
            foreach (var entry in batch)
            {
                var tokens = entry.Request.FindInput(first.Name, index)!.Shape[1];
                (shortest, longest) = (Math.Min(shortest, tokens), Math.Max(longest, tokens));
            }

            if (shortest != longest)
            {
                return ConcatenatePadded(first, index, batch, rows, longest);
            }
        }

        long length = 0;
        foreach (var entry in batch)
        {
            length += entry.Request.FindInput(first.Name, index)!.Data.Length;
        }

#pragma warning disable CA2000 // the InferInput returned owns the buffer
        var buffer = TensorBuffer.Rent(checked((int)length));
#pragma warning restore CA2000
        var offset = 0;
        foreach (var entry in batch)
        {
            var data = entry.Request.FindInput(first.Name, index)!.Data.Span;
            data.CopyTo(buffer.Span[offset..]);
            offset += data.Length;
        }

        long[] shape = [rows, .. first.Shape.AsSpan(1)];
        return new InferInput(first.Name, first.DataType, shape, buffer);
    }

    /// <summary>
    /// One input of a batch of token sequences of different lengths (<see cref="InferRequest.PadsSequences"/>): each
    /// row copied to the start of a row of the batch's longest length, the rest zeros (the padding id, mask and segment).
    /// </summary>
    private static InferInput ConcatenatePadded(InferInput first, int index, IReadOnlyList<QueuedRequest> batch, long rows, long longest)
    {
        var tokenBytes = (long)first.DataType.ElementSize();
        foreach (var dim in first.Shape.AsSpan(2))
        {
            tokenBytes *= dim;
        }

        var rowBytes = checked((int)(longest * tokenBytes));
#pragma warning disable CA2000 // the InferInput returned owns the buffer
        var buffer = TensorBuffer.Rent(checked((int)(rows * rowBytes)));
#pragma warning restore CA2000
        var target = buffer.Span;
        target.Clear();
        var offset = 0;
        foreach (var entry in batch)
        {
            var input = entry.Request.FindInput(first.Name, index)!;
            var ownBytes = (int)(input.Shape[1] * tokenBytes);
            var data = input.Data.Span;
            for (var row = 0; row < input.Shape[0]; row++)
            {
                data.Slice(row * ownBytes, ownBytes).CopyTo(target[offset..]);
                offset += rowBytes;
            }
        }

        long[] shape = [rows, longest, .. first.Shape.AsSpan(2)];
        return new InferInput(first.Name, first.DataType, shape, buffer);
    }

    /// <summary>Every output any request of the batch asked for, once (returned raw; each request formats its own).</summary>
    private static List<RequestedOutput> UnionOfOutputs(IReadOnlyList<QueuedRequest> batch)
    {
        var outputs = new List<RequestedOutput>(batch[0].Request.Outputs.Count);
        foreach (var entry in batch)
        {
            foreach (var requested in entry.Request.Outputs)
            {
                if (!outputs.Exists(output => output.Name == requested.Name))
                {
                    outputs.Add(new RequestedOutput(requested.Name, Binary: false));
                }
            }
        }

        return outputs;
    }

    /// <summary>Each request's results: its rows of every output it asked for, over the run's tensors (shared, not copied). Owns <paramref name="values"/>.</summary>
    private InferResult[] Split(IDisposableReadOnlyCollection<OrtValue> values, List<RequestedOutput> ran, IReadOnlyList<QueuedRequest> batch, long rows)
    {
        var infos = new OrtTensorTypeAndShapeInfo[values.Count];
        for (var i = 0; i < values.Count; i++)
        {
            infos[i] = values[i].GetTensorTypeAndShape();
            if (infos[i].Shape.Length == 0 || infos[i].Shape[0] != rows)
            {
                values.Dispose();
                throw new InvalidOperationException(
                    $"output '{ran[i].Name}' has shape {TensorShape.Format(infos[i].Shape)}, whose first dimension is not the batch size {rows}; " +
                    "this model cannot be batched dynamically: remove dynamic_batching from its config");
            }
        }

        var shared = new SharedRunValues(values, batch.Count);
        var results = new InferResult[batch.Count];
        var handedOut = 0;
        try
        {
            long rowOffset = 0;
            foreach (var entry in batch)
            {
                var requested = entry.Request.Outputs;
                var outputs = new List<InferOutput>(requested.Count);
                try
                {
                    foreach (var output in requested)
                    {
                        var index = ran.FindIndex(candidate => candidate.Name == output.Name);
                        var info = infos[index];
                        var perRow = TensorShape.ElementCount(info.Shape) / rows;
                        long[] shape = [entry.Rows, .. info.Shape.AsSpan(1)];
                        outputs.Add(CreateOutput(output, values[index], info.ElementDataType, shape, rowOffset * perRow));
                    }
                }
                catch
                {
                    DisposeSerialized(outputs);
                    throw;
                }

                results[handedOut++] = new InferResult(shared.Share(), outputs);
                rowOffset += entry.Rows;
            }

            return results;
        }
        catch
        {
            for (var i = 0; i < handedOut; i++)
            {
                results[i].Dispose();
            }

            shared.Release(batch.Count - handedOut);
            throw;
        }
    }
}
