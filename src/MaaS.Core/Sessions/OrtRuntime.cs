using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.ML.OnnxRuntime;

namespace MaaS.Core.Sessions;

/// <summary>
/// ONNX Runtime's process-wide environment (OrtEnv, the one static we accept). With
/// <c>MaaS:Sessions:UseGlobalThreadPool</c> it is created with one shared thread pool, which every session then uses
/// instead of starting its own. The environment can only be set up before its first use in the process; if something
/// used ONNX Runtime first, sessions keep their own pools and a warning says so.
/// </summary>
internal sealed partial class OrtRuntime(IOptions<SessionsOptions> options, CpuBudget cpu, ILogger<OrtRuntime> logger)
{
    private readonly Lock _gate = new();
    private bool _initialized;

    /// <summary>True when sessions must use the shared pool (DisablePerSessionThreads).</summary>
    public bool GlobalThreadPool { get; private set; }

    public void EnsureInitialized()
    {
        lock (_gate)
        {
            if (_initialized)
            {
                return;
            }

            _initialized = true;
            if (!options.Value.UseGlobalThreadPool)
            {
                return;
            }

            if (OrtEnv.IsCreated)
            {
                Log.GlobalPoolUnavailable(logger);
                return;
            }

            using var threading = new OrtThreadingOptions
            {
                // Sized from the CPUs the process may use: ONNX Runtime's own default counts the host's cores.
                GlobalIntraOpNumThreads = options.Value.IntraOpThreads > 0 ? options.Value.IntraOpThreads : cpu.Cpus,
                GlobalInterOpNumThreads = options.Value.InterOpThreads,
            };
            var creation = new EnvironmentCreationOptions { threadOptions = threading, logId = "maas" };
#pragma warning disable CA2000 // the process-wide environment lives as long as the process
            OrtEnv.CreateInstanceWithOptions(ref creation);
#pragma warning restore CA2000
            GlobalThreadPool = true;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1032, Level = LogLevel.Warning,
            Message = "MaaS:Sessions:UseGlobalThreadPool is set, but ONNX Runtime was already initialised in this process; sessions use their own thread pools")]
        public static partial void GlobalPoolUnavailable(ILogger logger);
    }
}
