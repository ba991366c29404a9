namespace MaaS.Server.Hosting;

/// <summary>The <c>MaaS:Auth</c> section.</summary>
internal sealed class AuthOptions
{
    public const string SectionName = "MaaS:Auth";

    /// <summary>
    /// API keys and their roles: <c>admin</c> (everything) or <c>inference</c> (inference and read-only routes). Sent as
    /// <c>Authorization: Bearer &lt;key&gt;</c> or <c>X-API-Key</c>. Empty (default): no key is asked for, and the
    /// management routes answer loopback callers only.
    /// </summary>
    public List<ApiKeyOptions> ApiKeys { get; set; } = [];

    /// <summary>
    /// Proxies whose <c>X-Forwarded-For</c> is believed: IP addresses (<c>10.0.0.5</c>) or CIDR networks
    /// (<c>10.0.0.0/24</c>). Set: the client address is the one these proxies forwarded, hop by hop, stopping at the
    /// first address not listed. Empty (default): forwarding headers are not read, and while no API keys are configured a
    /// request carrying any of them (<c>Forwarded</c>, <c>X-Forwarded-For</c>, <c>X-Real-IP</c>) is not a loopback caller.
    /// </summary>
    public List<string> TrustedProxies { get; set; } = [];
}

internal sealed class ApiKeyOptions
{
    public string Key { get; set; } = "";

    public string Role { get; set; } = "";
}
