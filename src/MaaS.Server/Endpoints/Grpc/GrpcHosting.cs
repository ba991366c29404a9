using System.Globalization;
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
        // The gRPC port joins the HTTP URLs, and Kestrel serves that one endpoint as HTTP/2 only (prior knowledge, as gRPC
        // clients connect without TLS); the others keep Kestrel's defaults, HTTP/1.1 without TLS.
        var urls = builder.Configuration[WebHostDefaults.ServerUrlsKey] ?? HostingExtensions.DefaultUrl;
        // A value the options refuse adds nothing here: validation stops the server at start, naming it.
        var configured = builder.Configuration[$"{GrpcOptions.SectionName}:Port"];
        var port = configured is null ? GrpcOptions.DefaultPort : int.TryParse(configured, CultureInfo.InvariantCulture, out var value) ? value : 0;
        if (port is > 0 and <= 65535)
        {
            builder.WebHost.UseUrls($"{urls};http://*:{port}");
        }

        builder.Services.AddOptions<KestrelServerOptions>().Configure<IOptions<GrpcOptions>>((kestrel, grpc) =>
            kestrel.ConfigureEndpointDefaults(listen =>
            {
                if (grpc.Value.Port != 0 && listen.IPEndPoint?.Port == grpc.Value.Port)
                {
                    listen.Protocols = HttpProtocols.Http2;
                }
            }));
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
}
