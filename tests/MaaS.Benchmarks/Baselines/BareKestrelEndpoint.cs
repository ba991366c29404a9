using System.Buffers;
using System.Collections.Frozen;
using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace MaaS.Benchmarks.Baselines;

/// <summary>
/// <c>kestrel --port P --responses DIR</c>: what HTTP alone costs. A minimal ASP.NET Core app (production defaults,
/// no logging) that reads each request body whole into a pooled buffer, as the server does, and answers with a
/// response the server gave for that request, recorded beforehand, without inference. <c>POST /NAME</c> answers
/// the bytes of <c>DIR/NAME</c>: as application/json, or, when <c>DIR/NAME.header-length</c> holds the JSON
/// header's length, as application/octet-stream with Inference-Header-Content-Length (the binary tensor extension).
/// Both go out with a Content-Length, as the server frames them. <c>GET /</c> answers 200 once listening.
/// </summary>
internal static class BareKestrelEndpoint
{
    private const string HeaderLengthSuffix = ".header-length";

    public static async Task<int> RunAsync(LoadArguments args, CancellationToken cancellationToken)
    {
        var responses = Load(args.Text("responses"));
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = Environments.Production });
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls(string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{args.Integer("port", 0, min: 1)}"));
        await using var app = builder.Build();
        app.MapGet("/", () => TypedResults.Ok());
        app.MapPost("/{name}", context => AnswerAsync(context, responses));
        await app.RunAsync(cancellationToken);
        return 0;
    }

    private static async Task AnswerAsync(HttpContext context, FrozenDictionary<string, CannedResponse> responses)
    {
        var cancellationToken = context.RequestAborted;
        await ReadBodyAsync(context.Request, cancellationToken);
        if (!responses.TryGetValue((string)context.Request.RouteValues["name"]!, out var canned))
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        var response = context.Response;
        if (canned.HeaderLength is { } headerLength)
        {
            response.ContentType = "application/octet-stream";
            response.Headers["Inference-Header-Content-Length"] = headerLength;
        }
        else
        {
            response.ContentType = "application/json";
        }

        response.ContentLength = canned.Body.Length;

        await response.BodyWriter.WriteAsync(canned.Body, cancellationToken);
    }

    private static async Task ReadBodyAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Clamp(request.ContentLength ?? 16 * 1024, 1, int.MaxValue));
        try
        {
            var length = 0;
            int read;
            while ((read = await request.Body.ReadAsync(buffer.AsMemory(length), cancellationToken)) > 0)
            {
                // A body longer than it said (or chunked) is read all the same, over the same buffer.
                length = (length + read) % buffer.Length;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static FrozenDictionary<string, CannedResponse> Load(string directory) =>
        Directory.EnumerateFiles(directory)
            .Where(path => !path.EndsWith(HeaderLengthSuffix, StringComparison.Ordinal))
            .ToFrozenDictionary(
                path => Path.GetFileName(path),
                path => new CannedResponse(
                    File.ReadAllBytes(path),
                    File.Exists(path + HeaderLengthSuffix) ? File.ReadAllText(path + HeaderLengthSuffix).Trim() : null),
                StringComparer.Ordinal);

    private sealed record CannedResponse(byte[] Body, string? HeaderLength);
}
