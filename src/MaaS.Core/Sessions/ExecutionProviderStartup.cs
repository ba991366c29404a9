using Microsoft.Extensions.Hosting;

namespace MaaS.Core.Sessions;

/// <summary>
/// Takes the execution provider as the host starts, so the choice (and, with MaaS:Cuda:Strict, the refusal to start)
/// happens before anything loads or listens.
/// </summary>
internal sealed class ExecutionProviderStartup(IExecutionProviderFactory provider) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        GC.KeepAlive(provider);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
