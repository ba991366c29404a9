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
    TimeProvider time, ILogger<OnnxModelLoader> logger)
{
    /// <summary>Loads <paramref name="version"/> of <paramref name="model"/>; throws <see cref="ModelConfigException"/> with the reason it cannot be served.</summary>
    public OnnxModel Load(ModelDirectory model, long version)
    {
        var settings = RuntimeSettings.From(model.Config, sessions.Value);
        var file = model.VersionFile(version);
        var memoryBefore = Environment.WorkingSet;
        var started = Stopwatch.GetTimestamp();
        var (pool, provider) = CreatePool(model, version, file, settings);
        OnnxModel onnx;
        try
        {
            var first = pool.Sessions[0];
            var signature = SignatureBuilder.Build(model.Config, first.InputMetadata, first.OutputMetadata, options.Value.DefaultMaxBatchSize);
            onnx = new OnnxModel(pool, WithLabels(signature, model), provider);
        }
        catch
        {
            pool.Dispose();
            throw;
        }

        try
        {
            var batching = BatchingPolicy.From(model.Config, onnx.Signature.MaxBatchSize);
            onnx.WarmupDuration = RunWarmup(onnx, model, version);
            if (batching is not null)
            {
                // After warmup, which runs on every instance directly: the workers own the instances from here on.
                onnx.StartBatching(batching, time, $"{model.Name} v{version}");
            }

            onnx.FootprintBytes = Math.Max(new FileInfo(file).Length, Environment.WorkingSet - memoryBefore);
            onnx.LoadDuration = Stopwatch.GetElapsedTime(started);
            return onnx;
        }
        catch
        {
            onnx.Dispose();
            throw;
        }
    }

    private (SessionPool Pool, string Provider) CreatePool(ModelDirectory model, long version, string file, RuntimeSettings settings)
    {
        runtime.EnsureInitialized();
        var created = new List<InferenceSession>(settings.Instances.Count);
        var provider = providers.Name;
        try
        {
            foreach (var placement in settings.Instances)
            {
                using var sessionOptions = CreateOptions(settings, runtime.GlobalThreadPool);
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

    /// <summary>The ONNX Runtime options of one instance (the load benchmark's raw baseline builds its sessions with them too).</summary>
    internal static SessionOptions CreateOptions(RuntimeSettings settings, bool globalThreadPool)
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
        };
        if (globalThreadPool)
        {
            sessionOptions.DisablePerSessionThreads();
        }
        else
        {
            sessionOptions.IntraOpNumThreads = settings.IntraOpThreads;
            sessionOptions.InterOpNumThreads = settings.InterOpThreads;
        }

        return sessionOptions;
    }

    /// <summary>
    /// Configured samples must pass (a failure makes the version UNAVAILABLE with the reason); the default sample is a
    /// guess at valid input (zeros, variable dims 1), so its failure is only logged.
    /// </summary>
    private TimeSpan RunWarmup(OnnxModel onnx, ModelDirectory model, long version)
    {
        var started = Stopwatch.GetTimestamp();
        var samples = Warmup.FromConfig(model.Config?.ModelWarmup, onnx.Signature, model.Path);
        var configured = samples.Count > 0;
        if (!configured && sessions.Value.DefaultWarmup)
        {
            samples.Add(Warmup.Default(onnx.Signature));
        }

        try
        {
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
                        return Stopwatch.GetElapsedTime(started);
                    }
                }
            }
        }
        finally
        {
            foreach (var sample in samples)
            {
                sample.Request.Dispose();
            }
        }

        var elapsed = Stopwatch.GetElapsedTime(started);
        if (samples.Count > 0)
        {
            Log.WarmedUp(logger, model.Name, version, onnx.InstanceCount, (long)elapsed.TotalMilliseconds);
        }

        return elapsed;
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
    }
}
