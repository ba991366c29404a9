namespace MaaS.Server.Hosting;

/// <summary>Who may call what: health and Swagger are open; inference and reads need a key (when keys exist); management needs admin.</summary>
internal static class AuthPolicies
{
    public const string Scheme = "ApiKey";
    public const string Admin = "admin";
    public const string Inference = "inference";
}
