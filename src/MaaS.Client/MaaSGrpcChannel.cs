using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;
using Grpc.Net.Client.Configuration;
using Microsoft.Extensions.Options;

namespace MaaS.Client;

/// <summary>
/// The one gRPC channel of a service provider (created on first use, disposed with the provider): the API key in the
/// authorization metadata, and UNAVAILABLE answers retried as HTTP retries 503 (at most 4 retries, gRPC's limit).
/// </summary>
internal sealed class MaaSGrpcChannel(IOptions<MaaSClientOptions> options) : IDisposable
{
    private readonly Lazy<(GrpcChannel Channel, CallInvoker Invoker)> _channel = new(() => Create(options.Value));

    public CallInvoker Invoker => _channel.Value.Invoker;

    public void Dispose()
    {
        if (_channel.IsValueCreated)
        {
            _channel.Value.Channel.Dispose();
        }
    }

    private static (GrpcChannel, CallInvoker) Create(MaaSClientOptions options)
    {
        var channelOptions = new GrpcChannelOptions { MaxReceiveMessageSize = null, MaxSendMessageSize = null };
        if (options.MaxRetries > 0)
        {
            channelOptions.ServiceConfig = new ServiceConfig
            {
                MethodConfigs =
                {
                    new MethodConfig
                    {
                        Names = { MethodName.Default },
                        RetryPolicy = new Grpc.Net.Client.Configuration.RetryPolicy
                        {
                            MaxAttempts = Math.Min(options.MaxRetries + 1, 5),
                            InitialBackoff = options.RetryDelay,
                            MaxBackoff = options.RetryDelay * 8,
                            BackoffMultiplier = 2,
                            RetryableStatusCodes = { StatusCode.Unavailable },
                        },
                    },
                },
            };
        }

        options.ConfigureGrpcChannel?.Invoke(channelOptions);
        var channel = GrpcChannel.ForAddress(options.GrpcAddress!, channelOptions);
        var invoker = channel.CreateCallInvoker();
        if (!string.IsNullOrEmpty(options.ApiKey))
        {
            var header = "Bearer " + options.ApiKey;
            invoker = invoker.Intercept(metadata =>
            {
                metadata.Add("authorization", header);
                return metadata;
            });
        }

        return (channel, invoker);
    }
}
