using System.IO.Compression;
using Microsoft.AspNetCore.ResponseCompression;

namespace MaaS.Server.Hosting;

/// <summary>
/// Compresses responses when the client's Accept-Encoding asks for gzip or deflate (PROTOCOL.md §1.4), JSON and
/// binary alike; Inference-Header-Content-Length keeps the uncompressed JSON length, as the protocol says.
/// </summary>
internal static class ResponseCompressionSetup
{
    public static IServiceCollection AddMaaSResponseCompression(this IServiceCollection services) =>
        services.AddResponseCompression(options =>
        {
            options.EnableForHttps = true;
            options.Providers.Add<GzipCompressionProvider>();
            options.Providers.Add<DeflateCompressionProvider>();
            options.MimeTypes = ["application/json", "application/octet-stream", "text/plain"];
        }).Configure<GzipCompressionProviderOptions>(options => options.Level = CompressionLevel.Fastest);
}

/// <summary>HTTP's deflate: the zlib format (RFC 9110), as tritonclient sends and expects it.</summary>
internal sealed class DeflateCompressionProvider : ICompressionProvider
{
    public string EncodingName => "deflate";

    public bool SupportsFlush => true;

    public Stream CreateStream(Stream outputStream) => new ZLibStream(outputStream, CompressionLevel.Fastest, leaveOpen: true);
}
