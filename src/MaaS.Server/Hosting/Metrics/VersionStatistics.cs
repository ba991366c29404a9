using System.Collections.Concurrent;
using MaaS.Core.Inference;

namespace MaaS.Server.Hosting.Metrics;

/// <summary>Triton's statistics of one model version, plus latency histograms. Counting follows Triton: a request is one success or failure; a batch of n is n inferences and one execution.</summary>
internal sealed class VersionStatistics
{
    private long _inferenceCount;
    private long _explainEvaluations;
    private long _executionCount;
    private long _lastInferenceMs;

    public DurationStat Success { get; } = new();

    public DurationStat Fail { get; } = new();

    public DurationStat Queue { get; } = new();

    public DurationStat ComputeInput { get; } = new();

    public DurationStat ComputeInfer { get; } = new();

    public DurationStat ComputeOutput { get; } = new();

    public LatencyHistogram RequestLatency { get; } = new();

    public LatencyHistogram QueueLatency { get; } = new();

    public LatencyHistogram ComputeLatency { get; } = new();

    /// <summary>Failures by Triton's reason: REJECTED, CANCELED, BACKEND, OTHER.</summary>
    public ConcurrentDictionary<string, DurationStat> FailuresByReason { get; } = new(StringComparer.Ordinal);

    /// <summary>Per executed batch size: compute_input, compute_infer, compute_output.</summary>
    public ConcurrentDictionary<long, (DurationStat Input, DurationStat Infer, DurationStat Output)> Batches { get; } = new();

    public long InferenceCount => Interlocked.Read(ref _inferenceCount);

    public long ExecutionCount => Interlocked.Read(ref _executionCount);

    /// <summary>Milliseconds since the epoch of the last inference; 0 if never.</summary>
    public long LastInferenceMs => Interlocked.Read(ref _lastInferenceMs);

    /// <summary>
    /// One successful request of <paramref name="rows"/> inferences. <paramref name="executedBatchSize"/> is the size of
    /// the execution it ran in when this request counts that execution, 0 when another request of its batch does.
    /// </summary>
    public void RecordSuccess(long rows, long executedBatchSize, TimeSpan request, RunTimings run, TimeSpan decode, TimeSpan encode, long nowMs)
    {
        var input = decode + run.ComputeInput;
        var output = run.ComputeOutput + encode;
        Success.Add(request);
        Queue.Add(run.Queue);
        ComputeInput.Add(input);
        ComputeInfer.Add(run.ComputeInfer);
        ComputeOutput.Add(output);
        if (executedBatchSize > 0)
        {
            // One entry per execution, timed over the execution (Triton's batch_stats).
            var batch = Batches.GetOrAdd(executedBatchSize, static _ => (new DurationStat(), new DurationStat(), new DurationStat()));
            batch.Input.Add(input);
            batch.Infer.Add(run.ComputeInfer);
            batch.Output.Add(output);
            Interlocked.Increment(ref _executionCount);
        }

        Interlocked.Add(ref _inferenceCount, rows);
        Interlocked.Exchange(ref _lastInferenceMs, nowMs);
        RequestLatency.Observe(request);
        QueueLatency.Observe(run.Queue);
        ComputeLatency.Observe(input + run.ComputeInfer + output);
    }

    /// <summary>Explanations: their own series, apart from inference (their forward passes are not counted as inferences).</summary>
    public DurationStat ExplainSuccess { get; } = new();

    public DurationStat ExplainFail { get; } = new();

    /// <summary>Forward passes (rows) run by successful explanations.</summary>
    public long ExplainEvaluations => Interlocked.Read(ref _explainEvaluations);

    public void RecordExplanation(TimeSpan request, int evaluations)
    {
        ExplainSuccess.Add(request);
        Interlocked.Add(ref _explainEvaluations, evaluations);
    }

    public void RecordFailure(TimeSpan request, string reason)
    {
        Fail.Add(request);
        FailuresByReason.GetOrAdd(reason, static _ => new DurationStat()).Add(request);
    }
}
