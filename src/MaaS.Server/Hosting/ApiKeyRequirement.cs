using System.Net;
using Microsoft.AspNetCore.Authorization;

namespace MaaS.Server.Hosting;

/// <summary>
/// A route needs <see cref="Role"/>: with keys configured, a key of that role (admin satisfies every role); without
/// keys, inference routes are open and admin routes answer loopback callers only (not relayed: no forwarding headers).
/// </summary>
internal sealed class ApiKeyRequirement(string role) : IAuthorizationRequirement
{
    public string Role { get; } = role;
}

internal sealed class ApiKeyRequirementHandler(ApiKeyStore keys) : AuthorizationHandler<ApiKeyRequirement>
{
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, ApiKeyRequirement requirement)
    {
        var allowed = keys.Enabled
            ? context.User.IsInRole(AuthPolicies.Admin) || context.User.IsInRole(requirement.Role)
            : requirement.Role != AuthPolicies.Admin || IsLoopback(context.Resource as HttpContext);
        if (allowed)
        {
            context.Succeed(requirement);
        }

        return Task.CompletedTask;
    }

    // No remote address means no network peer (an in-process host, a Unix socket): a local caller. A request that
    // carries forwarding headers was relayed, by a proxy or sidecar on this host, for someone else: not local. The
    // headers are only looked for, never believed; with MaaS:Auth:TrustedProxies the forwarded-headers middleware has
    // already consumed the trusted hops, so what remains came from beyond them.
    private static bool IsLoopback(HttpContext? http) =>
        http is not null
        && !Array.Exists(TrustedProxy.ForwardingHeaders, http.Request.Headers.ContainsKey)
        && (http.Connection.RemoteIpAddress is not { } address || IPAddress.IsLoopback(address));
}
