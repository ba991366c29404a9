using System.Collections.Concurrent;
using System.Diagnostics;
using MaaS.Core;
using MaaS.Core.Inference;
using MaaS.Core.Registry;

namespace MaaS.Server.Hosting.Metrics;

/// <summary>
/// Statistics of every model version that served a request, for the statistics extension and /metrics. Recorded only
/// once a request has been resolved to a version the registry holds, so names a client makes up never create a series.
/// </summary>
internal sealed class InferenceStatistics
{
    private readonly ConcurrentDictionary<(string Model, long Version), VersionStatistics> _versions = new();
    private readonly TimeProvider _time;

    public InferenceStatistics(TimeProvider time, ModelRegistry registry)
    {
        _time = time;

        // A version that leaves the registry (deleted, replaced on disk) takes its statistics with it, as a model
        // reloaded in Triton starts from zero; evictions and unloads keep theirs.
        // A pipeline model's entries are kept under its inner model's versions, and go with them.
        registry.VersionRemoved += (model, version) =>
        {
            _versions.TryRemove((model, version), out _);
            foreach (var pipeline in registry.Models.Where(m => m.Directory.Config?.Pipeline?.InnerModel == model))
            {
                _versions.TryRemove((pipeline.Name, version), out _);
            }
        };
    }

    /// <summary>
    /// The model whose versions <paramref name="model"/>'s statistics are kept under: its own, or for a pipeline model
    /// its inner model's, which its routes address (null while that inner model is missing).
    /// </summary>
    public static RegisteredModel? VersionSource(ModelRegistry registry, RegisteredModel model) =>
        model.Directory.Config?.Pipeline is not { } pipeline ? model
        : pipeline.InnerModel is { } inner && registry.TryGetModel(inner, out var found) ? found
        : null;

    /// <summary>The version's statistics (zeros when it never served).</summary>
    public VersionStatistics For(string model, long version) => _versions.GetOrAdd((model, version), static _ => new VersionStatistics());

    /// <summary>Times one inference on a leased version and records its outcome; returns the tracker to complete.</summary>
    /// <summary>Starts timing a request to <paramref name="modelName"/> v<paramref name="version"/> (its body already read).</summary>
    public InferenceTracker Start(string modelName, long version) => new(this, modelName, version, Stopwatch.GetTimestamp());

    /// <summary>Starts timing an explanation of <paramref name="modelName"/> v<paramref name="version"/>.</summary>
    public ExplainTracker StartExplain(string modelName, long version) => new(this, modelName, version, Stopwatch.GetTimestamp());

    internal long NowMs => _time.GetUtcNow().ToUnixTimeMilliseconds();

    internal static string FailureReason(Exception exception) => exception switch
    {
        OperationCanceledException => "CANCELED",
        BadHttpRequestException => "OTHER",
        ServingException { Kind: FailureKind.NotReady } => "REJECTED",
        ServingException => "OTHER",
        _ => "BACKEND",
    };
}

/// <summary>One request's timing: decode, run (from the result), encode; success or failure recorded once.</summary>
internal sealed class InferenceTracker(InferenceStatistics statistics, string modelName, long version, long started)
{
    private long _decoded;

    /// <summary>The version the request is counted for: the one it was decoded for, until it runs on another.</summary>
    public long Version { get; set; } = version;

    public void Decoded() => _decoded = Stopwatch.GetTimestamp();

    public void Succeeded(InferRequest request, InferResult result, ModelSignature signature) =>
        Succeeded(signature.RowsOf(request), result.Timings, result.CountsExecution ? result.ExecutedBatchSize : 0);

    /// <summary>A request of <paramref name="rows"/> rows whose runs took <paramref name="run"/> (a route without an InferRequest: /v1/embeddings).</summary>
    public void Succeeded(long rows, RunTimings run, long executedBatchSize)
    {
        var now = Stopwatch.GetTimestamp();
        var decode = Stopwatch.GetElapsedTime(started, _decoded == 0 ? started : _decoded);
        var encode = Stopwatch.GetElapsedTime(started, now) - decode - run.Queue - run.ComputeInput - run.ComputeInfer - run.ComputeOutput;
        statistics.For(modelName, Version).RecordSuccess(
            rows, executedBatchSize, Stopwatch.GetElapsedTime(started, now), run, decode, encode < TimeSpan.Zero ? TimeSpan.Zero : encode, statistics.NowMs);
    }

    /// <summary>For an exception filter: records the failure and returns false, so the exception goes on unhandled here.</summary>
    public bool Failed(Exception exception)
    {
        statistics.For(modelName, Version)
            .RecordFailure(Stopwatch.GetElapsedTime(started), InferenceStatistics.FailureReason(exception));
        return false;
    }
}

/// <summary>One explanation's outcome, counted in the version's explain series.</summary>
internal sealed class ExplainTracker(InferenceStatistics statistics, string modelName, long version, long started)
{
    /// <summary>The version the explanation is counted for: the one it was decoded for, until it runs on another.</summary>
    public long Version { get; set; } = version;

    public void Succeeded(int evaluations) => statistics.For(modelName, Version).RecordExplanation(Stopwatch.GetElapsedTime(started), evaluations);

    /// <summary>For an exception filter: records the failure and returns false, so the exception goes on unhandled here.</summary>
    public bool Failed()
    {
        statistics.For(modelName, Version).ExplainFail.Add(Stopwatch.GetElapsedTime(started));
        return false;
    }
}
