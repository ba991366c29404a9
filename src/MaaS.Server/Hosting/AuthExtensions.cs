using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.Extensions.Options;

namespace MaaS.Server.Hosting;

internal static partial class AuthExtensions
{
    public static WebApplicationBuilder AddMaaSAuth(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<AuthOptions>()
            .BindConfiguration(AuthOptions.SectionName)
            .Validate(
                options => options.ApiKeys.All(key => key.Key.Length >= 16 && key.Role.ToLowerInvariant() is AuthPolicies.Admin or AuthPolicies.Inference),
                "MaaS:Auth:ApiKeys: every entry needs a Key of at least 16 characters and a Role of 'admin' or 'inference'")
            .Validate(
                options => options.TrustedProxies.All(TrustedProxy.IsValid),
                "MaaS:Auth:TrustedProxies: every entry must be an IP address (10.0.0.5) or a CIDR network (10.0.0.0/24)")
            .ValidateOnStart();
        services.AddOptions<ForwardedHeadersOptions>().Configure<IOptions<AuthOptions>>(TrustedProxy.Configure);
        services.AddSingleton<ApiKeyStore>();
        services.AddSingleton<IAuthorizationHandler, ApiKeyRequirementHandler>();
        services.AddSingleton<IAuthorizationMiddlewareResultHandler, JsonAuthorizationResultHandler>();
        // Without keys there is nobody to authenticate, so authentication is not registered at all: WebApplication adds
        // the authentication middleware to every request by itself as soon as its services exist, and with no scheme it
        // still set a feature and looked for schemes on every call (~1.6% of a tiny request's CPU, ~10% of its
        // allocations). Management routes keep their loopback rule, which is authorization's. The keys are read from the
        // configuration as it stands here; UseMaaSAuth checks that the bound options agree.
        if (HasApiKeys(builder.Configuration))
        {
            // The authentication core only: AddAuthentication would also bring data protection (cookie keys), unused here.
            services.AddWebEncoders();
            services.AddAuthenticationCore();
            services.AddTransient<ApiKeyAuthenticationHandler>();
            services.AddOptions<AuthenticationOptions>().Configure(options =>
            {
                options.AddScheme<ApiKeyAuthenticationHandler>(AuthPolicies.Scheme, null);
                options.DefaultScheme = AuthPolicies.Scheme;
            });
        }

        services.AddAuthorizationBuilder()
            .AddPolicy(AuthPolicies.Admin, policy => policy.AddRequirements(new ApiKeyRequirement(AuthPolicies.Admin)))
            .AddPolicy(AuthPolicies.Inference, policy => policy.AddRequirements(new ApiKeyRequirement(AuthPolicies.Inference)));
        return builder;
    }

    private static bool HasApiKeys(ConfigurationManager configuration) =>
        configuration.GetSection($"{AuthOptions.SectionName}:{nameof(AuthOptions.ApiKeys)}").GetChildren().Any();

    /// <summary>
    /// With <c>MaaS:Auth:TrustedProxies</c> set, the client address becomes the one those proxies forwarded. First in the
    /// pipeline, so logs, metrics and the loopback rule all see the real client.
    /// </summary>
    public static WebApplication UseMaaSForwardedHeaders(this WebApplication app)
    {
        if (app.Services.GetRequiredService<IOptions<AuthOptions>>().Value.TrustedProxies.Count > 0)
        {
            app.UseForwardedHeaders();
        }

        return app;
    }

    public static WebApplication UseMaaSAuth(this WebApplication app)
    {
        var authenticating = app.Services.GetService<IAuthenticationSchemeProvider>() is not null;
        if (app.Services.GetRequiredService<ApiKeyStore>().Enabled != authenticating)
        {
            // Only configuration added after the builder's services were registered could get here: refuse to start
            // rather than serve with keys nobody checks.
            throw new InvalidOperationException(
                "MaaS:Auth:ApiKeys changed after the server's services were registered; set API keys in the configuration the server starts with");
        }

        if (authenticating)
        {
            app.UseAuthentication();
        }
        else
        {
            Log.NoKeys(app.Logger);
        }

        app.UseAuthorization();
        return app;
    }

    /// <summary>
    /// An inference route: with keys configured it needs a key of either role; without keys it is open to every caller,
    /// so no authorization is attached at all (evaluating a policy that always succeeds cost about a tenth of a small
    /// request's allocations). Keys are fixed at startup, so the choice is made once, when the route is mapped.
    /// </summary>
    public static TBuilder RequireInferenceKey<TBuilder>(this TBuilder builder, IEndpointRouteBuilder routes)
        where TBuilder : IEndpointConventionBuilder =>
        routes.ServiceProvider.GetRequiredService<ApiKeyStore>().Enabled ? builder.RequireAuthorization(AuthPolicies.Inference) : builder;

    private static partial class Log
    {
        [LoggerMessage(EventId = 2010, Level = LogLevel.Warning,
            Message = "No API keys configured (MaaS:Auth:ApiKeys): inference is open to every caller, management routes answer loopback callers only")]
        public static partial void NoKeys(ILogger logger);
    }
}

/// <summary>Answers 401 (no or bad key) and 403 (key without the role, or a non-loopback caller) with the usual <c>{"error"}</c> body.</summary>
internal sealed class JsonAuthorizationResultHandler(ApiKeyStore keys) : IAuthorizationMiddlewareResultHandler
{
    private readonly AuthorizationMiddlewareResultHandler _default = new();

    public Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult)
    {
        if (authorizeResult.Succeeded)
        {
            return _default.HandleAsync(next, context, policy, authorizeResult);
        }

        if (!keys.Enabled)
        {
            return ErrorHandling.WriteAsync(context, StatusCodes.Status403Forbidden,
                "management routes answer loopback callers only while no API keys are configured (MaaS:Auth:ApiKeys); "
                + "a request relayed by a proxy (Forwarded, X-Forwarded-For or X-Real-IP) is not one, unless the proxy is in MaaS:Auth:TrustedProxies");
        }

        return context.User.Identity?.IsAuthenticated == true
            ? ErrorHandling.WriteAsync(context, StatusCodes.Status403Forbidden, "this API key's role does not allow this route (it needs an admin key)")
            : ErrorHandling.WriteAsync(context, StatusCodes.Status401Unauthorized,
                "a valid API key is required: send 'Authorization: Bearer <key>' or 'X-API-Key: <key>'");
    }
}
