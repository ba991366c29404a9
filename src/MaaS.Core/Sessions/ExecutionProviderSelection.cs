using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.ML.OnnxRuntime;

namespace MaaS.Core.Sessions;

/// <summary>
/// Picks the provider at startup. For <c>cuda</c> it proves CUDA works by running a one-node model on it; when that
/// fails (no GPU, no CUDA or cuDNN libraries, a CPU-only build) the server falls back to the CPU with a warning that
/// says why, or, with <c>MaaS:Cuda:Strict</c>, refuses to start with a message naming CUDA and the cause.
/// </summary>
internal static partial class ExecutionProviderSelection
{
    // An ONNX model with one Identity node over a float[1]: the cheapest thing CUDA can prove it runs.
    private static readonly byte[] ProbeModel = Convert.FromBase64String(
        "CAg6OwoQCgF4EgF5IghJZGVudGl0eRIFcHJvYmVaDwoBeBIKCggIARIECgIIAWIPCgF5EgoKCAgBEgQKAggBQgQKABAR");

    private static readonly float[] ProbeInput = [1f];

    private static readonly long[] ProbeShape = [1];

    public static IExecutionProviderFactory Select(
        IOptions<MaaSOptions> options, IOptions<CudaOptions> cuda, OrtRuntime runtime, ILogger logger)
    {
        runtime.EnsureInitialized();
        if (options.Value.ExecutionProvider == "cpu")
        {
            return new CpuExecutionProviderFactory();
        }

        var factory = new CudaExecutionProviderFactory(cuda.Value);
        var failure = Probe(factory, cuda.Value.DeviceId);
        if (failure is null)
        {
            Log.CudaReady(logger, cuda.Value.DeviceId);
            return factory;
        }

        if (cuda.Value.Strict)
        {
            throw new InvalidOperationException(
                $"MaaS:ExecutionProvider is cuda and MaaS:Cuda:Strict is true, but the CUDA execution provider cannot start: {failure}");
        }

        Log.CudaFallback(logger, failure);
        return new CpuExecutionProviderFactory($"CUDA could not start: {failure}");
    }

    /// <summary>Null when a session runs on CUDA, else why not.</summary>
    private static string? Probe(CudaExecutionProviderFactory factory, int deviceId)
    {
        try
        {
            using var sessionOptions = new SessionOptions();
            factory.Configure(sessionOptions, new InstancePlacement(InstanceKind.Gpu, deviceId));
            sessionOptions.AddSessionConfigEntry("session.disable_cpu_ep_fallback", "1");
            using var session = new InferenceSession(ProbeModel, sessionOptions);
            using var input = OrtValue.CreateTensorValueFromMemory(ProbeInput, ProbeShape);
            using var runOptions = new RunOptions();
            using var outputs = session.Run(runOptions, ["x"], [input], ["y"]);
            return null;
        }
        catch (Exception ex) when (ex is OnnxRuntimeException or DllNotFoundException or EntryPointNotFoundException or TypeInitializationException)
        {
            return ex.Message;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1030, Level = LogLevel.Information, Message = "CUDA execution provider ready on device {DeviceId}")]
        public static partial void CudaReady(ILogger logger, int deviceId);

        [LoggerMessage(EventId = 1031, Level = LogLevel.Warning,
            Message = "MaaS:ExecutionProvider is cuda, but CUDA cannot start; serving on the CPU instead. Cause: {Cause}")]
        public static partial void CudaFallback(ILogger logger, string cause);
    }
}
