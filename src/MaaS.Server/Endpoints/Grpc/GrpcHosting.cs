using System.Net;
using Grpc.AspNetCore.Server;
using MaaS.Server.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;

namespace MaaS.Server.Endpoints.Grpc;

/// <summary>
/// Triton's gRPC service on a port of its own (MaaS:Grpc:Port, --grpc-port; default 8001, 0 = off): HTTP/2 without
/// TLS there, while --urls keeps naming the HTTP port(s). Plus grpc.health.v1.Health and server reflection.
/// </summary>
internal static class GrpcHosting
{
    public static WebApplicationBuilder AddMaaSGrpc(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<GrpcOptions>()
            .BindConfiguration(GrpcOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddGrpc(options => options.Interceptors.Add<GrpcErrorInterceptor>());
        builder.Services.AddOptions<GrpcServiceOptions>().Configure<IOptions<LimitsOptions>>((grpc, limits) =>
            // The largest message of any method: a repository load's model file (protobuf caps a message at 2 GiB - 1).
            // Every other method is held to MaaS:Limits:MaxRequestBodyBytes by GrpcMessageLimit.
            grpc.MaxReceiveMessageSize = (int)Math.Min(Math.Max(limits.Value.MaxModelBytes, limits.Value.MaxRequestBodyBytes), int.MaxValue));
        builder.Services.AddGrpcReflection();
        builder.Services.AddGrpcHealthChecks().AddCheck<GrpcReadinessCheck>("ready");
        builder.Services.AddSingleton<GrpcQueries>();
        builder.Services.AddSingleton<GrpcInference>();
        builder.Services.AddSingleton<GrpcRepository>();
        builder.Services.AddOptions<KestrelServerOptions>().Configure<IOptions<GrpcOptions>, IConfiguration>(Listen);
        return builder;
    }

    /// <summary>Maps the services when the port is on; every other gRPC call's messages are held to the HTTP body limit.</summary>
    public static WebApplication MapMaaSGrpc(this WebApplication app)
    {
        if (app.Services.GetRequiredService<IOptions<GrpcOptions>>().Value.Port == 0)
        {
            return app;
        }

        var limit = app.Services.GetRequiredService<IOptions<LimitsOptions>>().Value.MaxRequestBodyBytes;
        app.Use((context, next) =>
        {
            GrpcMessageLimit.Apply(context, limit);
            return next(context);
        });
        app.MapGrpcService<GrpcInferenceService>();
        app.MapGrpcHealthChecksService();
        app.MapGrpcReflectionService();
        return app;
    }

    /// <summary>
    /// Kestrel binds only the endpoints set here once any is: the HTTP ones of --urls (HTTP/1.1, as before) go with
    /// the gRPC one (HTTP/2 prior knowledge, which gRPC clients use without TLS).
    /// </summary>
    private static void Listen(KestrelServerOptions kestrel, IOptions<GrpcOptions> grpc, IConfiguration configuration)
    {
        var port = grpc.Value.Port;
        if (port == 0)
        {
            return;
        }

        var urls = configuration[WebHostDefaults.ServerUrlsKey] ?? HostingExtensions.DefaultUrl;
        foreach (var url in urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            ListenHttp(kestrel, BindingAddress.Parse(url));
        }

        kestrel.ListenAnyIP(port, listen => listen.Protocols = HttpProtocols.Http2);
    }

    private static void ListenHttp(KestrelServerOptions kestrel, BindingAddress address)
    {
        Action<ListenOptions> configure = string.Equals(address.Scheme, "https", StringComparison.OrdinalIgnoreCase) ? listen => listen.UseHttps() : _ => { };
        if (address.IsUnixPipe)
        {
            kestrel.ListenUnixSocket(address.UnixPipePath, configure);
        }
        else if (string.Equals(address.Host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            kestrel.ListenLocalhost(address.Port, configure);
        }
        else if (IPAddress.TryParse(address.Host.Trim('[', ']'), out var ip) && !ip.Equals(IPAddress.Any) && !ip.Equals(IPAddress.IPv6Any))
        {
            kestrel.Listen(ip, address.Port, configure);
        }
        else
        {
            // "*", "+", 0.0.0.0, [::] or a host name: every interface, as Kestrel treats them in --urls.
            kestrel.ListenAnyIP(address.Port, configure);
        }
    }
}
