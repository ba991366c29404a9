using System.Buffers;
using System.Globalization;
using System.Text.Json;
using MaaS.Core;
using MaaS.Core.Inference;
using MaaS.Core.Registry;
using MaaS.Server.Hosting;
using MaaS.Server.Hosting.Metrics;
using Microsoft.Extensions.Options;

namespace MaaS.Server.Endpoints.V2;

internal static class InferenceV2Endpoints
{
    /// <summary>Length of the JSON part of a body that carries binary tensors (binary tensor data extension).</summary>
    public const string HeaderLengthHeader = "Inference-Header-Content-Length";

    public static RouteGroupBuilder MapInferenceV2(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/v2/models/{modelName}").WithTags("Inference (V2)").RequireAuthorization(AuthPolicies.Inference).AddEndpointFilter<DrainingFilter>();
        foreach (var prefix in ModelVersionRoute.Prefixes)
        {
            group.MapPost(prefix + "/infer", InferAsync)
                .WithSummary("Run inference: JSON tensors, or a JSON header followed by binary tensors (Inference-Header-Content-Length). No Content-Type needed.")
                .WithMetadata(new RequestBodyDocumentation(typeof(InferRequestDocument)))
                .Produces<InferResponseDocument>(StatusCodes.Status200OK, "application/json", "application/octet-stream")
                .Produces<ErrorResponse>(StatusCodes.Status400BadRequest)
                .Produces<ErrorResponse>(StatusCodes.Status404NotFound)
                .Produces<ErrorResponse>(StatusCodes.Status413PayloadTooLarge)
                .Produces<ErrorResponse>(StatusCodes.Status503ServiceUnavailable)
                .RequireInferenceLimits();
        }

        return group;
    }

    // The body is read raw (tritonclient sends no Content-Type, and binary tensors follow the JSON), parsed in place,
    // run, and the outputs are encoded straight from ONNX Runtime's tensors. It is read and decoded before the version is
    // leased: a slow upload then holds no version, only its MaaS:Limits:MaxInFlight slot, and a bad body is refused
    // without loading an evicted version again (an evicted version keeps its signature for that).
    private static async Task InferAsync(
        HttpContext context, string modelName, ModelVersionRoute modelVersion, LoadedModelCache cache, IOptions<LimitsOptions> limits,
        InferenceStatistics statistics, Telemetry telemetry, TimeProvider time, CancellationToken cancellationToken)
    {
        using var body = await RequestBody.ReadAsync(context.Request, limits.Value.MaxRequestBodyBytes, cancellationToken);
        var headerLength = ReadHeaderLength(context.Request, body.Length);
        var (number, signature) = cache.Resolve(modelName, modelVersion.Number, modelVersion.Label);
        context.SetServedVersion(number);
        var tracker = statistics.Start(modelName, number);
        InferRequest? request = null;
        try
        {
            request = Decode(body, headerLength, signature, telemetry, modelName, number);
            tracker.Decoded();
            using var lease = await modelVersion.AcquireAsync(cache, modelName, cancellationToken);
            if (!ReferenceEquals(lease.Model.Signature, signature))
            {
                // Loaded again since, or the latest or the label moved on: decode for the version that will run it.
                context.SetServedVersion(tracker.Version = lease.VersionNumber);
                signature = lease.Model.Signature;
                request.Dispose();
                request = null;
                request = Decode(body, headerLength, signature, telemetry, modelName, lease.VersionNumber);
            }

            var runStarted = time.GetUtcNow();
            using var result = await lease.Model.RunAsync(request, cancellationToken);
            telemetry.RecordRun(modelName, lease.VersionNumber, runStarted, result.Timings);
            using (telemetry.Start("maas.encode", modelName, lease.VersionNumber))
            {
                await WriteResponseAsync(context.Response, result, request.Id, lease, cancellationToken);
            }

            tracker.Succeeded(request, result, signature);
        }
        catch (Exception ex) when (tracker.Failed(ex))
        {
            throw;
        }
        finally
        {
            request?.Dispose();
        }
    }

    private static InferRequest Decode(RequestBody body, int? headerLength, ModelSignature signature, Telemetry telemetry, string modelName, long version)
    {
        using (telemetry.Start("maas.decode", modelName, version))
        {
            return headerLength == 0
                ? InferRequestReader.ReadRaw(body.Span, signature)
                : InferRequestReader.Read(body.Span[..(headerLength ?? body.Length)], body.Memory[(headerLength ?? body.Length)..], signature);
        }
    }

    /// <summary>The JSON header's length; null without the header (the body is all JSON); 0 for a raw binary body.</summary>
    private static int? ReadHeaderLength(HttpRequest request, int bodyLength)
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
        HttpResponse response, InferResult result, string? id, VersionLease lease, CancellationToken cancellationToken)
    {
        if (!InferResponseWriter.HasBinaryOutputs(result))
        {
            response.ContentType = "application/json";
            await using (var json = new Utf8JsonWriter(response.BodyWriter, MaaSJsonContext.WriterOptions))
            {
                InferResponseWriter.WriteJson(json, result, id, lease.ModelName, lease.VersionNumber);
            }

            await response.BodyWriter.FlushAsync(cancellationToken);
            return;
        }

        // The JSON header is complete before anything is sent (its length is a response header), so it is written
        // into a pooled buffer, copied into the response pipe, and the buffer goes back to the pool at once.
        using (var header = new PooledBufferWriter(1024))
        {
            await using (var json = new Utf8JsonWriter(header, MaaSJsonContext.WriterOptions))
            {
                InferResponseWriter.WriteJson(json, result, id, lease.ModelName, lease.VersionNumber);
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
