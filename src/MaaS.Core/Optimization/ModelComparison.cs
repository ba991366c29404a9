using System.Diagnostics;
using MaaS.Core.Inference;
using MaaS.Core.Sessions;
using Microsoft.ML.OnnxRuntime;

namespace MaaS.Core.Optimization;

/// <summary>
/// The source and the optimised model side by side, each in a plain CPU session with the same options (whatever
/// serves the versions), so the two are measured alike and the serving sessions carry on untouched. Dispose it.
/// </summary>
internal sealed class ModelComparison : IDisposable
{
    /// <summary>Timed runs of each model per validation input, at most (after one untimed run).</summary>
    public const int MaxRepetitions = 5;

    /// <summary>Past this much timing, no further repetition starts (at least one always runs): big models stay bounded.</summary>
    public static readonly TimeSpan LatencyBudget = TimeSpan.FromSeconds(3);

    private readonly InferenceSession _source;
    private readonly InferenceSession _candidate;

    public ModelComparison(string sourcePath, string candidatePath, int threads)
    {
        _source = Open(sourcePath, threads, "the source version");
        try
        {
            _candidate = Open(candidatePath, threads, "the optimised model");
        }
        catch
        {
            _source.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Runs the source on <paramref name="request"/>; false (and nothing thrown) when the model refuses it, which a
    /// generated input may be (an id outside an embedding table, a length fixed inside the graph).
    /// </summary>
    public bool SourceAccepts(InferRequest request, CancellationToken cancellationToken)
    {
        try
        {
            using var outputs = OnnxModel.Execute(_source, request.Inputs, request.Outputs, cancellationToken).Values;
            return true;
        }
        catch (ServingException ex) when (ex.Kind == FailureKind.InvalidInput)
        {
            return false;
        }
        catch (OnnxRuntimeException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    /// <summary>Every output of both models on every request, compared; per output name, in the signature's order.</summary>
    public Dictionary<string, AccuracyFigures> CompareOutputs(IReadOnlyList<InferRequest> requests, ModelSignature signature, CancellationToken cancellationToken)
    {
        var differences = signature.Outputs.ToDictionary(spec => spec.Name, _ => new OutputDifference(), StringComparer.Ordinal);
        foreach (var request in requests)
        {
            using var expected = RunSource(request, cancellationToken);
            using var actual = RunCandidate(request, cancellationToken);
            for (var i = 0; i < request.Outputs.Count; i++)
            {
                var name = request.Outputs[i].Name;
                differences[name].Add(name, expected[i], actual[i]);
            }
        }

        return differences.ToDictionary(pair => pair.Key, pair => pair.Value.Figures(), StringComparer.Ordinal);
    }

    /// <summary>
    /// Batch-1 latency in microseconds, the median over every timed run of each model. The runs alternate between the
    /// models (source first, then the optimised one first) so that neither gets the warmer caches or a quieter moment.
    /// </summary>
    public SourceAndOptimized<double> MeasureLatency(IReadOnlyList<InferRequest> requests, CancellationToken cancellationToken)
    {
        var source = new List<double>();
        var candidate = new List<double>();
        var started = Stopwatch.GetTimestamp();
        for (var repetition = 0; repetition < MaxRepetitions && (repetition == 0 || Stopwatch.GetElapsedTime(started) < LatencyBudget); repetition++)
        {
            foreach (var request in requests)
            {
                if (repetition % 2 == 0)
                {
                    source.Add(Time(_source, request, cancellationToken));
                    candidate.Add(Time(_candidate, request, cancellationToken));
                }
                else
                {
                    candidate.Add(Time(_candidate, request, cancellationToken));
                    source.Add(Time(_source, request, cancellationToken));
                }
            }
        }

        return new SourceAndOptimized<double>(Median(source), Median(candidate));
    }

    public void Dispose()
    {
        _source.Dispose();
        _candidate.Dispose();
    }

    private IDisposableReadOnlyCollection<OrtValue> RunSource(InferRequest request, CancellationToken cancellationToken)
    {
        try
        {
            return OnnxModel.Execute(_source, request.Inputs, request.Outputs, cancellationToken).Values;
        }
        catch (ServingException ex) when (ex.Kind == FailureKind.InvalidInput)
        {
            throw new ServingException(FailureKind.InvalidInput, $"the source version rejected a validation input: {ex.Message}", ex);
        }
    }

    private IDisposableReadOnlyCollection<OrtValue> RunCandidate(InferRequest request, CancellationToken cancellationToken)
    {
        try
        {
            return OnnxModel.Execute(_candidate, request.Inputs, request.Outputs, cancellationToken).Values;
        }
        catch (Exception ex) when (ex is OnnxRuntimeException or ServingException { Kind: FailureKind.InvalidInput })
        {
            // The source ran the same input: the optimised model is what fails.
            throw new ServingException(FailureKind.Unprocessable, $"the optimised model fails on an input the source accepts, so it was not kept: {ex.Message}", ex);
        }
    }

    private static double Time(InferenceSession session, InferRequest request, CancellationToken cancellationToken)
    {
        var (values, prepared, ran) = OnnxModel.Execute(session, request.Inputs, request.Outputs, cancellationToken);
        values.Dispose();
        return Stopwatch.GetElapsedTime(prepared, ran).TotalMicroseconds;
    }

    private static double Median(List<double> values)
    {
        values.Sort();
        var middle = values.Count / 2;
        var median = values.Count == 0 ? 0 : values.Count % 2 == 1 ? values[middle] : (values[middle - 1] + values[middle]) / 2;
        return Math.Round(median, 1);
    }

    private static InferenceSession Open(string path, int threads, string what)
    {
        using var options = new SessionOptions
        {
            IntraOpNumThreads = threads,
            InterOpNumThreads = 1,
            LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
        };

        // No spinning: these sessions run beside the serving ones and must not take their CPUs while idle.
        options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        try
        {
            return new InferenceSession(path, options);
        }
        catch (OnnxRuntimeException ex)
        {
            throw new ServingException(FailureKind.Unprocessable, $"ONNX Runtime cannot load {what}: {ex.Message.Replace(path, what, StringComparison.Ordinal)}", ex);
        }
    }
}
