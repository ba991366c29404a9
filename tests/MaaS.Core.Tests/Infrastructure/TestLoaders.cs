using MaaS.Core.Sessions;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace MaaS.Core.Tests.Infrastructure;

/// <summary>An <see cref="OnnxModelLoader"/> on the CPU provider with default session settings (auto instances over 2 CPUs) unless told otherwise.</summary>
internal static class TestLoaders
{
    public static OnnxModelLoader Create(
        MaaSOptions? options = null, SessionsOptions? sessions = null, TimeProvider? time = null, int cpus = 2, IExecutionProviderFactory? providers = null)
    {
        var sessionOptions = Options.Create(sessions ?? new SessionsOptions());
        var budget = new CpuBudget(cpus);
        return new OnnxModelLoader(
            providers ?? new CpuExecutionProviderFactory(),
            new OrtRuntime(sessionOptions, budget, NullLogger<OrtRuntime>.Instance),
            Options.Create(options ?? new MaaSOptions()),
            sessionOptions,
            budget,
            time ?? TimeProvider.System,
            NullLogger<OnnxModelLoader>.Instance);
    }
}
