using System.Net;
using System.Net.Http.Headers;
using MaaS.Client;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Polly;

namespace Microsoft.Extensions.DependencyInjection;

public static class MaaSClientServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="IMaaSClient"/> (over <see cref="MaaSClient"/>, a typed HTTP client, or with
    /// <see cref="MaaSTransport.Grpc"/> a <see cref="MaaSGrpcClient"/> on one shared channel): options validated on first use, the API key sent as
    /// <c>Authorization: Bearer</c>, and retries of transient failures (503 honours <c>Retry-After</c>; a registry
    /// write is retried only when the server refused it with 503, an upload never). Returns the builder, to add handlers.
    /// </summary>
    public static IHttpClientBuilder AddMaaSClient(this IServiceCollection services, Action<MaaSClientOptions> configure)
    {
        services.AddOptions<MaaSClientOptions>()
            .Configure(configure)
            .ValidateDataAnnotations()
            .Validate(o => o.BaseAddress is null || o.BaseAddress.IsAbsoluteUri, "MaaSClientOptions.BaseAddress must be an absolute URI")
            .Validate(o => o.Timeout > TimeSpan.Zero, "MaaSClientOptions.Timeout must be positive")
            .Validate(o => o.Transport == MaaSTransport.Http || o.GrpcAddress is { IsAbsoluteUri: true }, "MaaSClientOptions.GrpcAddress must be an absolute URI with the gRPC transport")
            .ValidateOnStart();

        services.TryAddSingleton<MaaSGrpcChannel>();
        services.TryAddTransient<IMaaSClient>(provider =>
            provider.GetRequiredService<IOptions<MaaSClientOptions>>().Value.Transport == MaaSTransport.Grpc
                ? new MaaSGrpcClient(provider.GetRequiredService<MaaSGrpcChannel>().Invoker, provider.GetRequiredService<MaaSClient>())
                : provider.GetRequiredService<MaaSClient>());
        var builder = services.AddHttpClient<MaaSClient>((provider, http) =>
        {
            var options = provider.GetRequiredService<IOptions<MaaSClientOptions>>().Value;
            http.BaseAddress = options.BaseAddress;
            http.Timeout = options.Timeout;
            if (!string.IsNullOrEmpty(options.ApiKey))
            {
                http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", options.ApiKey);
            }
        });

        builder.AddResilienceHandler("maas-retry", (pipeline, context) =>
        {
            var options = context.ServiceProvider.GetRequiredService<IOptions<MaaSClientOptions>>().Value;
            if (options.MaxRetries == 0)
            {
                return;
            }

            pipeline.AddRetry(new HttpRetryStrategyOptions
            {
                MaxRetryAttempts = options.MaxRetries,
                Delay = options.RetryDelay,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                ShouldRetryAfterHeader = true,
                ShouldHandle = args => ValueTask.FromResult(ShouldRetry(args.Outcome, args.Context.GetRequestMessage())),
            });
        });
        return builder;
    }

    internal static bool ShouldRetry(Outcome<HttpResponseMessage> outcome, HttpRequestMessage? request)
    {
        var policy = request is not null && request.Options.TryGetValue(MaaSClient.RetryKey, out var p) ? p : RetryPolicy.Transient;
        return policy switch
        {
            RetryPolicy.Never => false,
            RetryPolicy.OnlyWhenRefused => outcome.Result?.StatusCode == HttpStatusCode.ServiceUnavailable,
            _ => HttpClientResiliencePredicates.IsTransient(outcome),
        };
    }
}
