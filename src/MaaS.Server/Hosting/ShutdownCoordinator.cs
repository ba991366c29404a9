namespace MaaS.Server.Hosting;

/// <summary>
/// Drains on SIGTERM: readiness turns 503 at once (see the health endpoint); for <c>DelaySeconds</c> inference is
/// still served while the load balancer notices; then new inference is refused with 503 and the server stops
/// accepting connections, letting requests in flight finish within <c>MaaS:ShutdownTimeoutSeconds</c>; then exit 0.
/// </summary>
internal sealed partial class ShutdownCoordinator(Microsoft.Extensions.Options.IOptions<ShutdownOptions> options, TimeProvider time, ILogger<ShutdownCoordinator> logger)
    : IHostedLifecycleService
{
    private volatile bool _refusing;

    /// <summary>True once new inference must be refused.</summary>
    public bool RefusingNewWork => _refusing;

    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        Log.Draining(logger, options.Value.DelaySeconds, options.Value.TimeoutSeconds);
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(options.Value.DelaySeconds), time, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The host's shutdown timeout ran out during the delay: refuse at once.
        }

        _refusing = true;
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken)
    {
        Log.Stopped(logger);
        return Task.CompletedTask;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 2030, Level = LogLevel.Information,
            Message = "Shutting down: readiness is 503; inference accepted for {DelaySeconds} s more, then requests in flight get up to {TimeoutSeconds} s")]
        public static partial void Draining(ILogger logger, int delaySeconds, int timeoutSeconds);

        [LoggerMessage(EventId = 2031, Level = LogLevel.Information, Message = "Shut down: every request in flight has finished")]
        public static partial void Stopped(ILogger logger);
    }
}

/// <summary>Route metadata: the route runs inference and answers 503 while the server drains.</summary>
internal sealed class RefusedWhileDraining
{
    public static readonly RefusedWhileDraining Instance = new();

    private RefusedWhileDraining()
    {
    }
}

internal static class DrainingExtensions
{
    public static TBuilder RefuseWhileDraining<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder => builder.WithMetadata(RefusedWhileDraining.Instance);
}
