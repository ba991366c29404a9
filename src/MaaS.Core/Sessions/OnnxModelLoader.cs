using System.Diagnostics;
using MaaS.Core.Batching;
using MaaS.Core.Inference;
using MaaS.Core.Repository;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.ML.OnnxRuntime;

namespace MaaS.Core.Sessions;

/// <summary>
/// Creates the sessions of one model version (one per instance, with the model's options over the server defaults),
/// works out the signature it serves, and warms every instance up before it is handed over.
/// </summary>
internal sealed partial class OnnxModelLoader(
    IExecutionProviderFactory providers, OrtRuntime runtime, IOptions<MaaSOptions> options, IOptions<SessionsOptions> sessions,
    CpuBudget cpu, TimeProvider time, ILogger<OnnxModelLoader> logger)
{
    /// <summary>How long each of the two windows of a candidate of the automatic instance choice runs with every instance busy.</summary>
    internal static readonly TimeSpan ChoiceWindow = TimeSpan.FromMilliseconds(100);

    /// <summary>Runs each instance makes at least while a candidate is timed, however slow the model.</summary>
    internal const int ChoiceMinRuns = 3;

    /// <summary>
    /// How much faster one session using every CPU must be, timed alone, to be kept over several smaller ones. Served,
    /// it does worse than its timing says: conv96 on 2 CPUs timed up to 1.45x faster as one spinning session than as
    /// two, and then served 0.67x of their requests per second at 8 concurrent callers (docs/performance.md).
    /// </summary>
    internal const double ChoiceMargin = 1.5;

    /// <summary>
    /// How much faster, timed, the one-session candidate must run a request than one of the several sessions for
    /// <c>auto</c> to keep it for requests that run alone: its extra copy of the weights must buy a clear gain.
    /// </summary>
    internal const double LoneMargin = 1.2;

    /// <summary><see cref="ChoiceMargin"/>, which tests may move to make the timed choice come out one way.</summary>
    internal double OneSessionMargin { get; set; } = ChoiceMargin;

    /// <summary><see cref="LoneMargin"/>, which tests may move to make the lone-request session kept or not.</summary>
    internal double LoneSessionMargin { get; set; } = LoneMargin;

    /// <summary>The several-sessions candidate of <c>auto</c>: one per CPU, at most this many (each holds a copy of the weights).</summary>
    internal const int MaxAutoInstances = 4;

    /// <summary>
    /// Loads <paramref name="version"/> of <paramref name="model"/>; throws <see cref="ModelConfigException"/> with the
    /// reason it cannot be served. <paramref name="onlyVersion"/>: no other version is loaded or loading, so a single
    /// session may let its pool threads spin (measured: 1.6x alone; with a second model spinning, 0.5x).
    /// </summary>
    public OnnxModel Load(ModelDirectory model, long version, bool onlyVersion = false)
    {
        var settings = RuntimeSettings.From(model.Config, sessions.Value);
        var file = model.VersionFile(version);
        var memoryBefore = Environment.WorkingSet;
        var started = Stopwatch.GetTimestamp();
        var (candidates, note) = Candidates(settings);
        List<OnnxModel> created = new(candidates.Count);
        var best = new double[candidates.Count];
        List<Warmup.Sample>? samples = null;
        InferRequest? timingSample = null;
        try
        {
            foreach (var count in candidates)
            {
                try
                {
                    created.Add(Create(
                        model, version, file, settings.AutoInstances ? settings.WithInstanceCount(count) : settings, Spinning(count, onlyVersion), created.FirstOrDefault()?.Signature));
                }
                catch (ModelConfigException ex) when (created.Count > 0)
                {
                    // A later candidate holds a copy of the weights per session, memory the first did not need: the version
                    // is served by the first candidate, which loaded and warmed up, rather than not at all.
                    note = $"not timed: {count} instances could not be created: {ex.Message}";
                    Log.CandidateFailed(logger, model.Name, version, count, ex.Message);
                    break;
                }

                var candidate = created[^1];
                samples ??= WarmupSamples(model, candidate.Signature);
                (candidate.WarmupDuration, timingSample) = RunWarmup(candidate, samples, model, version);
                if (candidates.Count > 1 && timingSample is null)
                {
                    // Nothing to time with: keep the first candidate (one session, every CPU), as a plain session would run;
                    // a later candidate whose default warmup failed is disposed with the rest below, never timed.
                    note = samples.Count == 0
                        ? "not timed: no warmup sample (MaaS:Sessions:DefaultWarmup is off and the config has no model_warmup)"
                        : "not timed: the default warmup sample failed";
                    break;
                }

                if (candidates.Count > 1)
                {
                    best[created.Count - 1] = candidate.MeasureThroughput(timingSample!, ChoiceWindow, ChoiceMinRuns);
                }
            }

            var chosen = created[0];
            var timings = new List<InstanceTiming>();
            if (created.Count > 1 && timingSample is not null)
            {
                // A second window for each, the other way round, and each candidate's better one: whatever else ran on the
                // CPUs (the host starting, a build, another load) can only have slowed a window down.
                for (var i = created.Count - 1; i >= 0; i--)
                {
                    best[i] = Math.Max(best[i], created[i].MeasureThroughput(timingSample, ChoiceWindow, ChoiceMinRuns));
                }

                for (var i = 0; i < created.Count; i++)
                {
                    timings.Add(new InstanceTiming(candidates[i], settings.ThreadsPerInstance(candidates[i], cpu.Cpus), Math.Round(best[i], 1)));
                }

                // Several sessions unless one is clearly faster alone. Served, the request threads share these CPUs, and a
                // Run split over threads waits at every operator for the slowest of them (one the scheduler preempted);
                // sessions of one thread each do not wait for each other (docs/performance.md, "The instance choice").
                chosen = best[0] > OneSessionMargin * best[^1] ? created[0] : created[^1];
            }

            var batching = BatchingPolicy.From(model.Config, chosen.Signature.MaxBatchSize);
            var lone = KeepsLoneSession(created, chosen, best, batching) ? LoneSession(created, model, version, file, settings, onlyVersion, timingSample!) : null;
            foreach (var other in created.Where(other => !ReferenceEquals(other, chosen) && !ReferenceEquals(other, lone)))
            {
                other.Dispose();
            }

            if (lone is not null)
            {
                created.Remove(lone);
                chosen.KeepForLoneRequests(lone);
            }

            created = [chosen];   // disposed should the rest of the load fail
            var source = settings.AutoInstances ? InstanceChoice.Auto : model.Config?.InstanceGroup is null ? InstanceChoice.FromServer : InstanceChoice.FromConfig;
            chosen.Choice = new InstanceChoice(
                chosen.InstanceCount, settings.ThreadsPerInstance(chosen.InstanceCount, cpu.Cpus), Spinning(chosen.InstanceCount, onlyVersion), source, timings, note)
            {
                LoneRequestThreads = lone is null ? null : settings.ThreadsPerInstance(1, cpu.Cpus),
            };
            if (samples!.Count > 0)
            {
                Log.WarmedUp(logger, model.Name, version, chosen.InstanceCount, (long)chosen.WarmupDuration.TotalMilliseconds);
            }

            if (batching is not null)
            {
                // After warmup, which runs on every instance directly: the workers own the instances from here on.
                chosen.StartBatching(batching, time, $"{model.Name} v{version}");
            }

            chosen.FootprintBytes = Math.Max(new FileInfo(file).Length, Environment.WorkingSet - memoryBefore);
            chosen.LoadDuration = Stopwatch.GetElapsedTime(started);
            created.Clear();
            return chosen;
        }
        catch
        {
            created.ForEach(candidate => candidate.Dispose());
            throw;
        }
        finally
        {
            foreach (var sample in samples ?? [])
            {
                sample.Request.Dispose();
            }
        }
    }

    /// <summary>
    /// Whether <c>auto</c>, having chosen several sessions, also keeps its timed one-session candidate for requests that
    /// run alone: when that session ran at least <see cref="LoneSessionMargin"/> times as many runs per second as one of the
    /// several did (a request alone then finishes that much sooner), without dynamic batching (whose workers hold the
    /// instances), and unless MaaS:Sessions:LoneRequestSession is off.
    /// </summary>
    private bool KeepsLoneSession(List<OnnxModel> created, OnnxModel chosen, double[] best, BatchingPolicy? batching) =>
        sessions.Value.LoneRequestSession && batching is null && created.Count > 1 && !ReferenceEquals(chosen, created[0])
        && best[0] >= LoneSessionMargin * best[^1] / chosen.InstanceCount;

    /// <summary>
    /// The lone-request session: the one-session candidate itself when its pool threads do not spin (or spin because
    /// MaaS:Sessions:AllowSpinning is true); else a new session
    /// like it whose threads do not spin, warmed up with the timing sample. It mostly runs while the instances are idle,
    /// but a request that arrives meanwhile runs beside it, and spinning threads would then take that request's CPUs
    /// (conv96 at 8 concurrent callers: 0.85x with a spinning one, 1.0x without). Null when the new session cannot be
    /// created or run (memory): the version serves without one, and a warning says why.
    /// </summary>
    private OnnxModel? LoneSession(
        List<OnnxModel> created, ModelDirectory model, long version, string file, RuntimeSettings settings, bool onlyVersion, InferRequest sample)
    {
        if (!Spinning(1, onlyVersion) || sessions.Value.AllowSpinning == true)
        {
            // Not spinning, or spinning because MaaS:Sessions:AllowSpinning says every session should.
            return created[0];
        }

        OnnxModel? fresh = null;
        try
        {
            fresh = Create(model, version, file, settings.WithInstanceCount(1), spinning: false, created[0].Signature);
            fresh.RunOnEveryInstance(sample);
            var kept = fresh;
            fresh = null;
            return kept;
        }
        catch (Exception ex) when (ex is ModelConfigException or OnnxRuntimeException or ServingException)
        {
            // An extra the version serves well without: it loads all the same.
            Log.LoneSessionFailed(logger, model.Name, version, ex.Message);
            return null;
        }
        finally
        {
            fresh?.Dispose();
        }
    }

    /// <summary>
    /// The instance counts to try, in order: the configured one; or with <c>auto</c> one session using every CPU,
    /// then one per CPU (at most <see cref="MaxAutoInstances"/>), each with its share of the threads. Under CUDA a
    /// session per device is what Triton runs too, so <c>auto</c> means one.
    /// </summary>
    private (List<int> Counts, string? Note) Candidates(RuntimeSettings settings)
    {
        if (!settings.AutoInstances)
        {
            return ([settings.Instances.Count], null);
        }

        if (providers.Name == "cuda")
        {
            return ([1], "one session on the GPU");
        }

        var several = Math.Min(cpu.Cpus, MaxAutoInstances);
        return several > 1 ? ([1, several], null) : ([1], "one CPU");
    }

    /// <summary>
    /// Whether pool threads spin while waiting for work: as configured, else only for a version alone in the process
    /// with one session. Spinning threads of several sessions burn the CPUs the others' work needs.
    /// </summary>
    private bool Spinning(int instances, bool onlyVersion) => sessions.Value.AllowSpinning ?? (instances == 1 && onlyVersion);

    /// <summary>The sessions of one candidate and the model over them; <paramref name="signature"/> when an earlier candidate already worked it out.</summary>
    private OnnxModel Create(ModelDirectory model, long version, string file, RuntimeSettings settings, bool spinning, ModelSignature? signature)
    {
        var (pool, provider) = CreatePool(model, version, file, settings, spinning);
        try
        {
            var first = pool.Sessions[0];
            signature ??= WithLabels(SignatureBuilder.Build(model.Config, first.InputMetadata, first.OutputMetadata, options.Value.DefaultMaxBatchSize), model);
            return new OnnxModel(pool, signature, provider) { Spins = spinning };
        }
        catch
        {
            pool.Dispose();
            throw;
        }
    }

    private (SessionPool Pool, string Provider) CreatePool(ModelDirectory model, long version, string file, RuntimeSettings settings, bool spinning)
    {
        runtime.EnsureInitialized();
        var count = settings.Instances.Count;
        var created = new List<InferenceSession>(count);
        var provider = providers.Name;
        try
        {
            foreach (var placement in settings.Instances)
            {
                using var sessionOptions = CreateOptions(settings, settings.ThreadsPerInstance(count, cpu.Cpus), spinning, runtime.GlobalThreadPool);
                provider = providers.Configure(sessionOptions, placement);
                try
                {
                    created.Add(new InferenceSession(file, sessionOptions));
                }
                catch (OnnxRuntimeException ex) when (placement.Kind == InstanceKind.Gpu && provider == "cuda")
                {
                    throw new ModelConfigException($"config.json: instance_group asks for GPU {placement.DeviceId}, which CUDA cannot use: {ex.Message}", ex);
                }
            }

            return (new SessionPool(created, time, TimeSpan.FromSeconds(sessions.Value.SessionWaitTimeoutSeconds)), provider);
        }
        catch (Exception ex) when (ex is OnnxRuntimeException or ModelConfigException)
        {
            foreach (var session in created)
            {
                session.Dispose();
            }

            if (ex is ModelConfigException)
            {
                throw;
            }

            // Name the file as the repository knows it: the server's own paths are none of the client's business.
            var shown = $"{model.Name}/{version}/{model.ModelFileName}";
            throw new ModelConfigException($"ONNX Runtime cannot load {shown}: {ex.Message.Replace(file, shown, StringComparison.Ordinal)}", ex);
        }
    }

    /// <summary>
    /// The ONNX Runtime options of one instance (the load benchmark's raw-leased baseline builds its sessions with them
    /// too): <paramref name="intraOpThreads"/> threads per Run; the pool's threads spin while waiting for work only when
    /// <paramref name="allowSpinning"/>.
    /// </summary>
    internal static SessionOptions CreateOptions(RuntimeSettings settings, int intraOpThreads, bool allowSpinning, bool globalThreadPool)
    {
        var sessionOptions = new SessionOptions
        {
            GraphOptimizationLevel = settings.GraphOptimizationLevel switch
            {
                "disable" => GraphOptimizationLevel.ORT_DISABLE_ALL,
                "basic" => GraphOptimizationLevel.ORT_ENABLE_BASIC,
                "extended" => GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
                _ => GraphOptimizationLevel.ORT_ENABLE_ALL,
            },
            EnableMemoryPattern = settings.MemoryPattern,
            EnableCpuMemArena = settings.CpuMemArena,
            ExecutionMode = settings.ParallelExecution ? ExecutionMode.ORT_PARALLEL : ExecutionMode.ORT_SEQUENTIAL,
        };
        if (globalThreadPool)
        {
            sessionOptions.DisablePerSessionThreads();
        }
        else
        {
            sessionOptions.IntraOpNumThreads = intraOpThreads;
            sessionOptions.InterOpNumThreads = settings.InterOpThreads;
            var spin = allowSpinning ? "1" : "0";
            sessionOptions.AddSessionConfigEntry("session.intra_op.allow_spinning", spin);
            sessionOptions.AddSessionConfigEntry("session.inter_op.allow_spinning", spin);
        }

        return sessionOptions;
    }

    /// <summary>The configured warmup samples, else (with MaaS:Sessions:DefaultWarmup) one zero-filled request.</summary>
    private List<Warmup.Sample> WarmupSamples(ModelDirectory model, ModelSignature signature)
    {
        var samples = Warmup.FromConfig(model.Config?.ModelWarmup, signature, model.Path);
        if (samples.Count == 0 && sessions.Value.DefaultWarmup)
        {
            samples.Add(Warmup.Default(signature));
        }

        return samples;
    }

    /// <summary>
    /// Runs every sample on every instance. Configured samples must pass (a failure makes the version UNAVAILABLE with
    /// the reason); the default sample is a guess at valid input (zeros, variable dims 1), so its failure is only
    /// logged. Returns the time taken and the first sample when it ran (the automatic instance choice times it), else null.
    /// </summary>
    private (TimeSpan Elapsed, InferRequest? Usable) RunWarmup(OnnxModel onnx, List<Warmup.Sample> samples, ModelDirectory model, long version)
    {
        var started = Stopwatch.GetTimestamp();
        var configured = model.Config?.ModelWarmup is { Count: > 0 };
        foreach (var sample in samples)
        {
            for (var i = 0; i < sample.Count; i++)
            {
                try
                {
                    onnx.RunOnEveryInstance(sample.Request);
                }
                catch (Exception ex) when (ex is ServingException or OnnxRuntimeException)
                {
                    if (configured)
                    {
                        throw new ModelConfigException($"warmup sample '{sample.Name}' failed: {ex.Message}", ex);
                    }

                    Log.DefaultWarmupFailed(logger, model.Name, version, ex.Message);
                    return (Stopwatch.GetElapsedTime(started), null);
                }
            }
        }

        return (Stopwatch.GetElapsedTime(started), samples.Count > 0 ? samples[0].Request : null);
    }

    private static ModelSignature WithLabels(ModelSignature signature, ModelDirectory model)
    {
        var outputs = signature.Outputs.Select(spec => spec with { Labels = ReadLabels(model.Path, spec.LabelFileName) }).ToList();
        return new ModelSignature(signature.MaxBatchSize, signature.Inputs, outputs);
    }

    /// <summary>The output's label_filename, else the model's labels.txt when present.</summary>
    private static string[]? ReadLabels(string modelPath, string? fileName)
    {
        var path = Path.Combine(modelPath, fileName ?? "labels.txt");
        if (!File.Exists(path))
        {
            return fileName is null ? null : throw new ModelConfigException($"label_filename '{fileName}' does not exist in the model's directory");
        }

        try
        {
            return File.ReadAllLines(path);
        }
        catch (IOException ex)
        {
            throw new ModelConfigException($"labels file '{Path.GetFileName(path)}' cannot be read: {ex.Message}", ex);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1040, Level = LogLevel.Information, Message = "Warmed up {ModelName} v{ModelVersion} on {Instances} instances in {ElapsedMs} ms")]
        public static partial void WarmedUp(ILogger logger, string modelName, long modelVersion, int instances, long elapsedMs);

        [LoggerMessage(EventId = 1041, Level = LogLevel.Warning,
            Message = "Default warmup of {ModelName} v{ModelVersion} (zeros, variable dims 1) failed; it serves anyway. Add model_warmup to its config to warm it up properly. Cause: {Reason}")]
        public static partial void DefaultWarmupFailed(ILogger logger, string modelName, long modelVersion, string reason);

        [LoggerMessage(EventId = 1042, Level = LogLevel.Warning,
            Message = "{ModelName} v{ModelVersion}: the automatic instance choice could not create {Instances} instances, so it keeps one session. Cause: {Reason}")]
        public static partial void CandidateFailed(ILogger logger, string modelName, long modelVersion, int instances, string reason);

        [LoggerMessage(EventId = 1043, Level = LogLevel.Warning,
            Message = "{ModelName} v{ModelVersion}: the lone-request session could not be created, so a request alone runs on one instance. Cause: {Reason}")]
        public static partial void LoneSessionFailed(ILogger logger, string modelName, long modelVersion, string reason);
    }
}
