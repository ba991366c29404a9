using System.Buffers;
using System.Globalization;
using System.Text.Json;
using MaaS.Core;
using MaaS.Core.Inference;
using MaaS.Core.Pipelines;
using MaaS.Server.Hosting;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace MaaS.Server.Endpoints.V2;

internal static class InferenceV2Endpoints
{
    /// <summary>Length of the JSON part of a body that carries binary tensors (binary tensor data extension).</summary>
    public const string HeaderLengthHeader = "Inference-Header-Content-Length";

    public static RouteGroupBuilder MapInferenceV2(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/v2/models/{modelName}").WithTags("Inference (V2)").RequireInferenceKey(routes).RefuseWhileDraining();

        // The handler's services are singletons, taken once here: a handler parameter resolved from the request's
        // services makes ASP.NET Core create a DI scope for every request (~3% of a tiny request's allocated bytes).
        var pipeline = routes.ServiceProvider.GetRequiredService<InferencePipeline>();
        var limits = routes.ServiceProvider.GetRequiredService<IOptions<LimitsOptions>>().Value;
        foreach (var prefix in ModelVersionRoute.Prefixes)
        {
            group.MapPost(
                    prefix + "/infer",
                    (HttpContext context, string modelName, ModelVersionRoute modelVersion, CancellationToken cancellationToken) =>
                        InferAsync(context, modelName, modelVersion, pipeline, limits.MaxRequestBodyBytes, cancellationToken))
                .WithSummary("Run inference: JSON tensors, or a JSON header followed by binary tensors (Inference-Header-Content-Length). No Content-Type needed; image/png, image/jpeg, image/webp or image/bmp for an image pipeline model's raw image.")
                .WithMetadata(new RequestBodyDocumentation(typeof(InferRequestDocument)))
                .Produces<InferResponseDocument>(StatusCodes.Status200OK, "application/json", "application/octet-stream")
                .Produces<ErrorResponse>(StatusCodes.Status400BadRequest)
                .Produces<ErrorResponse>(StatusCodes.Status404NotFound)
                .Produces<ErrorResponse>(StatusCodes.Status413PayloadTooLarge)
                .Produces<ErrorResponse>(StatusCodes.Status503ServiceUnavailable)
                .RequireInferenceLimits();
        }

        group.MapExplainV2();
        return group;
    }

    // The body is read raw (tritonclient sends no Content-Type, and binary tensors follow the JSON), parsed in place,
    // run, and the outputs are encoded straight from ONNX Runtime's tensors; the rest is the shared pipeline.
    private static async Task InferAsync(
        HttpContext context, string modelName, ModelVersionRoute modelVersion, InferencePipeline pipeline, long maxRequestBodyBytes,
        CancellationToken cancellationToken)
    {
        using var body = await RequestBody.ReadAsync(context.Request, maxRequestBodyBytes, cancellationToken);
        var exchange = new HttpExchange(body, ReadHeaderLength(context.Request, body.Length), IsImage(context.Request), context.Response);
        await pipeline.RunAsync(context, modelName, modelVersion.Number, modelVersion.Label, exchange, cancellationToken);
    }

    private readonly struct HttpExchange(RequestBody body, int? headerLength, bool image, HttpResponse response) : IInferExchange
    {
        public bool IsRawImage => image;

        public InferRequest Decode(ModelSignature signature) =>
            image ? RawImageRequest.Read(body.Span, signature)
            : headerLength == 0
                ? InferRequestReader.ReadRaw(body.Span, signature)
                : InferRequestReader.Read(body.Span[..(headerLength ?? body.Length)], body.Memory[(headerLength ?? body.Length)..], signature);

        public ValueTask WriteAsync(InferResult result, InferRequest request, string modelName, long version, CancellationToken cancellationToken) =>
            new(WriteResponseAsync(response, result, request.Id, modelName, version, cancellationToken));
    }

    /// <summary>True for a raw image body (<see cref="ImageFormats.MediaTypeNames"/>); 400 for another image type or with a JSON header.</summary>
    private static bool IsImage(HttpRequest request)
    {
        // Most bodies are JSON or binary tensors, with any or no Content-Type: only one that names an image is parsed.
        if (request.ContentType is not { } contentType
            || !contentType.AsSpan().TrimStart().StartsWith("image/", StringComparison.OrdinalIgnoreCase)
            || !MediaTypeHeaderValue.TryParse(contentType, out var type))
        {
            return false;
        }

        if (!ImageFormats.IsSupportedMediaType(type.MediaType.ToString()))
        {
            throw ServingException.Invalid($"Content-Type {type.MediaType} is not supported: a raw image body is {ImageFormats.MediaTypeNames}");
        }

        return request.Headers.ContainsKey(HeaderLengthHeader)
            ? throw ServingException.Invalid($"a raw image body (Content-Type {type.MediaType}) has no JSON header: drop {HeaderLengthHeader}")
            : true;
    }

    /// <summary>The JSON header's length; null without the header (the body is all JSON); 0 for a raw binary body.</summary>
    internal static int? ReadHeaderLength(HttpRequest request, int bodyLength)
    {
        var header = request.Headers[HeaderLengthHeader];
        if (header.Count == 0)
        {
            return null;
        }

        // 0 means no JSON at all: the body is the raw data of the model's only input.
        return int.TryParse(header.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var length) && length <= bodyLength
            ? length
            : throw ServingException.Invalid(
                $"{HeaderLengthHeader} must be an integer from 0 to the body length ({bodyLength}); got '{header}'");
    }

    private static async Task WriteResponseAsync(
        HttpResponse response, InferResult result, string? id, string modelName, long version, CancellationToken cancellationToken)
    {
        if (!InferResponseWriter.HasBinaryOutputs(result))
        {
            // Written whole into a pooled buffer first (the response pipe would hold it all until the flush anyway), so
            // the answer carries a Content-Length and goes out in one write, not chunked with a second write to end it.
            using var body = new PooledBufferWriter(1024);
            await using (var json = new Utf8JsonWriter(body, MaaSJsonContext.WriterOptions))
            {
                InferResponseWriter.WriteJson(json, result, id, modelName, version);
            }

            response.ContentType = "application/json";
            response.ContentLength = body.WrittenCount;
            response.BodyWriter.Write(body.WrittenSpan);
            await response.BodyWriter.FlushAsync(cancellationToken);
            return;
        }

        // The JSON header is complete before anything is sent (its length is a response header), so it is written
        // into a pooled buffer, copied into the response pipe, and the buffer goes back to the pool at once.
        using (var header = new PooledBufferWriter(1024))
        {
            await using (var json = new Utf8JsonWriter(header, MaaSJsonContext.WriterOptions))
            {
                InferResponseWriter.WriteJson(json, result, id, modelName, version);
            }

            long length = header.WrittenCount;
            foreach (var output in result.Outputs)
            {
                length += output.Binary ? output.BinarySize : 0;
            }

            response.ContentType = "application/octet-stream";
            response.Headers[HeaderLengthHeader] = header.WrittenCount.ToString(CultureInfo.InvariantCulture);
            response.ContentLength = length;
            response.BodyWriter.Write(header.WrittenSpan);
        }

        foreach (var output in result.Outputs)
        {
            if (output.Binary)
            {
                InferResponseWriter.WriteBinary(response.BodyWriter, output);
                await response.BodyWriter.FlushAsync(cancellationToken);
            }
        }

        await response.BodyWriter.FlushAsync(cancellationToken);
    }
}
