using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace MaaS.Server.Hosting;

/// <summary>
/// Authenticates <c>Authorization: Bearer &lt;key&gt;</c> or <c>X-API-Key: &lt;key&gt;</c> against the configured keys. Keys
/// are compared as SHA-256 digests in constant time, every configured key checked, and never logged.
/// </summary>
internal sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> schemeOptions, ILoggerFactory loggerFactory, UrlEncoder encoder, ApiKeyStore keys)
    : AuthenticationHandler<AuthenticationSchemeOptions>(schemeOptions, loggerFactory, encoder)
{
    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var presented = PresentedKey(Request.Headers);
        if (presented is null)
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        var role = keys.FindRole(presented);
        if (role is null)
        {
            return Task.FromResult(AuthenticateResult.Fail("the API key is not valid"));
        }

        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Role, role)], AuthPolicies.Scheme);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), AuthPolicies.Scheme)));
    }

    private static string? PresentedKey(IHeaderDictionary headers)
    {
        var apiKey = headers["X-API-Key"].ToString();
        if (apiKey.Length > 0)
        {
            return apiKey;
        }

        var authorization = headers.Authorization.ToString();
        return authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? authorization[7..].Trim() : null;
    }
}

/// <summary>The configured keys as digests, so a comparison takes the same time whatever the key.</summary>
internal sealed class ApiKeyStore(IOptions<AuthOptions> options)
{
    private readonly (byte[] Digest, string Role)[] _keys =
        options.Value.ApiKeys.Select(key => (Digest(key.Key), key.Role.ToLowerInvariant())).ToArray();

    public bool Enabled => _keys.Length > 0;

    public string? FindRole(string presented)
    {
        var digest = Digest(presented);
        string? role = null;
        foreach (var key in _keys)
        {
            if (CryptographicOperations.FixedTimeEquals(digest, key.Digest))
            {
                role ??= key.Role;
            }
        }

        return role;
    }

    private static byte[] Digest(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));
}
