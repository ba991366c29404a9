using System.ComponentModel.DataAnnotations;

namespace MaaS.Server.Endpoints.Grpc;

/// <summary>The <c>MaaS:Grpc</c> section: Triton's gRPC inference service on a port of its own.</summary>
internal sealed class GrpcOptions
{
    public const string SectionName = "MaaS:Grpc";

    /// <summary>Triton's gRPC port.</summary>
    public const int DefaultPort = 8001;

    /// <summary>
    /// The port the gRPC service listens on (HTTP/2 without TLS, every interface), beside the HTTP port(s) of --urls.
    /// Default 8001 (Triton's); 0 turns gRPC off; 1 to 65535. Also <c>--grpc-port N</c>.
    /// </summary>
    [Range(0, 65535)]
    public int Port { get; set; } = DefaultPort;

    /// <summary>
    /// How many requests of one ModelStreamInfer call run at once, counting those whose answer waits to be written.
    /// With that many outstanding, the server reads no further request from the stream until the oldest is answered,
    /// which holds the client back (HTTP/2 flow control) instead of queueing without bound. Default 16; 1 to 1024.
    /// </summary>
    [Range(1, 1024)]
    public int StreamMaxInFlight { get; set; } = 16;
}
