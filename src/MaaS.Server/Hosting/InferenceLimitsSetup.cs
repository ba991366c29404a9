namespace MaaS.Server.Hosting;

/// <summary>Wires <see cref="InferenceLimits"/> and draining into the HTTP pipeline (<see cref="InferenceAdmissionMiddleware"/>).</summary>
internal static class InferenceLimitsSetup
{
    public static IServiceCollection AddMaaSInferenceLimits(this IServiceCollection services) =>
        services.AddSingleton<InferenceLimits>();

    /// <summary>
    /// Admission reads the matched endpoint's metadata, so it runs after routing (which WebApplication puts first) and
    /// after authentication and authorization, so that a request without a valid key never takes a slot.
    /// </summary>
    public static WebApplication UseMaaSInferenceLimits(this WebApplication app)
    {
        app.UseMiddleware<InferenceAdmissionMiddleware>();
        return app;
    }

    /// <summary>Puts a route under the server-wide inference limits.</summary>
    public static RouteHandlerBuilder RequireInferenceLimits(this RouteHandlerBuilder builder) =>
        builder.WithMetadata(InferenceLimited.Instance);
}

/// <summary>Route metadata: a request to the route holds a slot of the server-wide limits while it runs.</summary>
internal sealed class InferenceLimited
{
    public static readonly InferenceLimited Instance = new();

    private InferenceLimited()
    {
    }
}

/// <summary>
/// Lets a request to a model in, or answers 503: while the server drains, on the routes marked with
/// <see cref="DrainingExtensions.RefuseWhileDraining{TBuilder}"/>; and past both server-wide limits (MaaS:Limits:MaxInFlight
/// and MaxQueued) on the routes marked with <see cref="InferenceLimitsSetup.RequireInferenceLimits"/>, which hold a slot
/// until their answer is written. A request waiting for a slot has not read its body; a caller that goes away while it
/// waits leaves the queue. One middleware with one shared limiter, in place of ASP.NET Core's
/// rate-limiting middleware, whose policy and partition lookups (a dictionary, a lock and an idle timer for a single
/// partition that never changes) were ~1.7% of a tiny request's CPU; the draining check is one flag read until shutdown
/// (an endpoint filter there boxed the handler's arguments on every call).
/// </summary>
internal sealed class InferenceAdmissionMiddleware(RequestDelegate next, ShutdownCoordinator shutdown, InferenceLimits limits)
{
    public Task InvokeAsync(HttpContext context)
    {
        var metadata = context.GetEndpoint()?.Metadata;
        if (metadata is null)
        {
            return next(context);
        }

        if (shutdown.RefusingNewWork && metadata.GetMetadata<RefusedWhileDraining>() is not null)
        {
            return ErrorHandling.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, "server is shutting down; retry on another replica");
        }

        if (metadata.GetMetadata<InferenceLimited>() is null)
        {
            return next(context);
        }

        var lease = limits.TryAcquire();
        if (lease.IsAcquired)
        {
            return RunAsync(context, lease);
        }

        lease.Dispose();
        return WaitAsync(context);
    }

    private async Task RunAsync(HttpContext context, IDisposable lease)
    {
        using (lease)
        {
            await next(context);
        }
    }

    // A caller that goes away while queued leaves the queue with an OperationCanceledException, which the error
    // middleware treats as any other client that left.
    private async Task WaitAsync(HttpContext context)
    {
        var lease = await limits.AcquireAsync(context.RequestAborted);
        if (!lease.IsAcquired)
        {
            lease.Dispose();
            await limits.RejectAsync(context);
            return;
        }

        await RunAsync(context, lease);
    }
}
