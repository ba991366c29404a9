using MaaS.Core.Sessions;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace MaaS.Core.Tests.Infrastructure;

/// <summary>An <see cref="OnnxModelLoader"/> on the CPU provider with default session settings unless told otherwise.</summary>
internal static class TestLoaders
{
    public static OnnxModelLoader Create(MaaSOptions? options = null, SessionsOptions? sessions = null, TimeProvider? time = null)
    {
        var sessionOptions = Options.Create(sessions ?? new SessionsOptions());
        return new OnnxModelLoader(
            new CpuExecutionProviderFactory(),
            new OrtRuntime(sessionOptions, NullLogger<OrtRuntime>.Instance),
            Options.Create(options ?? new MaaSOptions()),
            sessionOptions,
            time ?? TimeProvider.System,
            NullLogger<OnnxModelLoader>.Instance);
    }
}
