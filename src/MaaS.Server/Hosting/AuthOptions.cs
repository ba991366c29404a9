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
}

internal sealed class ApiKeyOptions
{
    public string Key { get; set; } = "";

    public string Role { get; set; } = "";
}
