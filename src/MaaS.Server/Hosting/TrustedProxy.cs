using System.Net;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.Options;
using IPNetwork = System.Net.IPNetwork;

namespace MaaS.Server.Hosting;

/// <summary>
/// <c>MaaS:Auth:TrustedProxies</c>: the proxies whose <c>X-Forwarded-For</c> names the real client. Only what is listed
/// is believed: ASP.NET Core's default of trusting loopback is dropped, since a proxy or sidecar on the same host is
/// loopback too and would otherwise relay any caller as a local one.
/// </summary>
internal static class TrustedProxy
{
    /// <summary>Headers by which a proxy says it relays someone else; see <see cref="ApiKeyRequirementHandler"/>.</summary>
    public static readonly string[] ForwardingHeaders = ["Forwarded", "X-Forwarded-For", "X-Real-IP"];

    public static bool IsValid(string entry) => entry.Contains('/', StringComparison.Ordinal)
        ? IPNetwork.TryParse(entry, out _)
        : IPAddress.TryParse(entry, out _);

    public static void Configure(ForwardedHeadersOptions forwarded, IOptions<AuthOptions> auth)
    {
        forwarded.ForwardedHeaders = ForwardedHeaders.XForwardedFor;
        // Every hop a trusted proxy vouches for, up to the first address that is not one: KnownProxies bounds the walk.
        forwarded.ForwardLimit = null;
        forwarded.KnownProxies.Clear();
        forwarded.KnownIPNetworks.Clear();
        foreach (var entry in auth.Value.TrustedProxies.Where(IsValid))
        {
            if (entry.Contains('/', StringComparison.Ordinal))
            {
                forwarded.KnownIPNetworks.Add(IPNetwork.Parse(entry));
            }
            else
            {
                forwarded.KnownProxies.Add(IPAddress.Parse(entry));
            }
        }
    }
}
