using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;

namespace MaaS.Server.Hosting;

/// <summary>Wires <see cref="InferenceLimits"/> into ASP.NET Core's rate-limiting middleware.</summary>
internal static class InferenceLimitsSetup
{
    /// <summary>The <see cref="InferenceLimits.PolicyName"/> policy: every request shares one concurrency limiter.</summary>
    public static IServiceCollection AddMaaSInferenceLimits(this IServiceCollection services)
    {
        services.AddSingleton<InferenceLimits>();
        services.AddRateLimiter(_ => { });
        services.AddOptions<RateLimiterOptions>().Configure<InferenceLimits>((options, limits) =>
        {
            options.AddPolicy(InferenceLimits.PolicyName, _ => RateLimitPartition.Get(InferenceLimits.PolicyName, _ => limits.Limiter));
            options.RejectionStatusCode = StatusCodes.Status503ServiceUnavailable;
            options.OnRejected = limits.RejectAsync;
        });
        return services;
    }

    /// <summary>
    /// The rate limiter reads the matched endpoint's policy, so it runs after routing (which WebApplication puts first)
    /// and after authentication, so that a request without a valid key never takes a slot.
    /// </summary>
    public static WebApplication UseMaaSInferenceLimits(this WebApplication app)
    {
        app.UseMiddleware<DrainingMiddleware>();   // a draining server refuses before a request takes a slot
        app.UseRateLimiter();
        return app;
    }

    /// <summary>Puts a route under the server-wide inference limits.</summary>
    public static RouteHandlerBuilder RequireInferenceLimits(this RouteHandlerBuilder builder) =>
        builder.RequireRateLimiting(InferenceLimits.PolicyName);
}
