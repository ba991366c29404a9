using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using MaaS.Core;
using MaaS.Core.Registry;
using MaaS.Core.Repository;
using MaaS.Server.Endpoints.V2;
using MaaS.Server.Hosting;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace MaaS.Server.Endpoints.Management;

/// <summary>Registry management (ours): upload versions, replace config, move labels, delete, all written to the repository.</summary>
internal static partial class ModelManagementEndpoints
{
    private const int MaxConfigBytes = 1024 * 1024;

    public static RouteGroupBuilder MapModelManagement(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/v2/repository/models/{modelName}").WithTags("Management").RequireAuthorization(AuthPolicies.Admin);
        group.MapPost("/versions", UploadAsync)
            .WithSummary("Upload model.onnx as a new version: raw application/octet-stream body, or multipart/form-data with parts 'model' and optional 'config'. ?version=N, else the next number. 201 once READY.")
            .WithMetadata(new RequestBodyDocumentation(typeof(byte[])))
            .Produces<UploadResponse>(StatusCodes.Status201Created)
            .Produces<ErrorResponse>(StatusCodes.Status400BadRequest)
            .Produces<ErrorResponse>(StatusCodes.Status409Conflict)
            .Produces<ErrorResponse>(StatusCodes.Status413PayloadTooLarge)
            .Produces<ErrorResponse>(StatusCodes.Status507InsufficientStorage);
        group.MapGet("", GetView).WithSummary("Every version on disk with state, reason, sha256, size, created time and labels; the model's labels and config.");
        group.MapPut("/config", ReplaceConfigAsync)
            .WithSummary("Replace the config: config.json as application/json, or config.pbtxt (a config.pbtxt model) as text/plain protobuf text format; applied (versions reloaded) only if every served version loads under it.")
            .WithMetadata(new RequestBodyDocumentation(typeof(JsonObject)));
        group.MapPut("/labels/{label}", SetLabelAsync).WithSummary("Point a label at a version: {\"version\": N}. 409 unless the version exists and loads.");
        group.MapDelete("/labels/{label}", RemoveLabelAsync).WithSummary("Remove a label.");
        group.MapDelete("/versions/{modelVersion:regex(^[0-9]+$)}", DeleteVersionAsync).WithSummary("Unload and delete a version (409 while labelled).");
        group.MapDelete("", DeleteModelAsync).WithSummary("Unload and delete the model.");
        MapOptimize(group);
        return group;
    }

    private static async Task<Created<UploadResponse>> UploadAsync(
        HttpContext context, string modelName, string? version, ModelManager manager, IOptions<LimitsOptions> limits, CancellationToken cancellationToken)
    {
        var requested = version is null ? null : ModelVersionRoute.Parse(version);
        var maxBytes = limits.Value.MaxModelBytes;
        RaiseBodyLimit(context, maxBytes + MaxConfigBytes + 64 * 1024);
        if (context.Request.ContentLength > maxBytes + MaxConfigBytes + 64 * 1024)
        {
            throw new ServingException(FailureKind.PayloadTooLarge, $"the upload is larger than the limit of {maxBytes} bytes (MaaS:Limits:MaxModelBytes)");
        }

        var (staged, config) = await ReadUploadAsync(context.Request, manager, maxBytes, cancellationToken);
        using (staged)
        {
            var added = await manager.AddVersionAsync(modelName, staged, requested, config, cancellationToken);
            var number = added.Number.ToString(CultureInfo.InvariantCulture);
            return TypedResults.Created(
                $"/v2/models/{Uri.EscapeDataString(modelName)}/versions/{number}",
                new UploadResponse(modelName, number, added.State.ToString().ToUpperInvariant(), added.File?.Sha256, added.File?.SizeBytes));
        }
    }

    /// <summary>The model bytes (streamed to staging, never held in memory) and the optional config part.</summary>
    private static async Task<(StagedFile Staged, byte[]? Config)> ReadUploadAsync(
        HttpRequest request, ModelManager manager, long maxBytes, CancellationToken cancellationToken)
    {
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var contentType)
            || !contentType.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase))
        {
            return (await manager.StageUploadAsync(request.Body, maxBytes, cancellationToken), null);
        }

        var boundary = HeaderUtilities.RemoveQuotes(contentType.Boundary).Value
            ?? throw ServingException.Invalid("multipart/form-data needs a boundary");
        var reader = new MultipartReader(boundary, request.Body);
        StagedFile? staged = null;
        byte[]? config = null;
        try
        {
            while (await reader.ReadNextSectionAsync(cancellationToken) is { } section)
            {
                var name = ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition)
                    ? HeaderUtilities.RemoveQuotes(disposition.Name).Value
                    : null;
                switch (name)
                {
                    case "model" when staged is null:
                        staged = await manager.StageUploadAsync(section.Body, maxBytes, cancellationToken);
                        break;
                    case "config" when config is null:
                        config = await ReadSmallAsync(section.Body, MaxConfigBytes, "config part", cancellationToken);
                        break;
                    default:
                        throw ServingException.Invalid($"unexpected multipart part '{name}'; expected one 'model' and at most one 'config'");
                }
            }
        }
        catch (Exception ex) when ((ex is InvalidDataException || (ex is IOException and not BadHttpRequestException))
            && !cancellationToken.IsCancellationRequested)
        {
            // A client that left mid-upload (its connection reset) is not a malformed body: the error middleware logs it as 499.
            staged?.Dispose();
            throw new ServingException(FailureKind.InvalidInput, $"the multipart body is malformed: {ex.Message}", ex);
        }
        catch
        {
            staged?.Dispose();
            throw;
        }

        return (staged ?? throw ServingException.Invalid("multipart upload has no 'model' part"), config);
    }

    private static Ok<ModelRegistryView> GetView(string modelName, RepositoryView repository) => TypedResults.Ok(repository.Describe(modelName));

    private static async Task<NoContent> ReplaceConfigAsync(
        HttpRequest request, string modelName, ModelManager manager, CancellationToken cancellationToken)
    {
        // text/plain is protobuf text format, as Triton's config.pbtxt is written; anything else is config.json as before.
        var format = MediaTypeHeaderValue.TryParse(request.ContentType, out var type) && type.MediaType.Equals("text/plain", StringComparison.OrdinalIgnoreCase)
            ? ModelConfigFormat.Pbtxt
            : ModelConfigFormat.Json;
        var config = await ReadSmallAsync(request.Body, MaxConfigBytes, ModelConfigFiles.FileName(format), cancellationToken);
        await manager.ReplaceConfigAsync(modelName, config, format, cancellationToken);
        return TypedResults.NoContent();
    }

    private static async Task<NoContent> SetLabelAsync(
        HttpRequest request, string modelName, string label, ModelManager manager, CancellationToken cancellationToken)
    {
        var body = await ReadSmallAsync(request.Body, 4096, "label request", cancellationToken);
        long version;
        try
        {
            using var document = JsonDocument.Parse(body);
            version = document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("version", out var value)
                && value.ValueKind == JsonValueKind.Number
                && value.TryGetInt64(out var number)
                    ? number
                    : throw ServingException.Invalid("label request must be {\"version\": N}");
        }
        catch (JsonException ex)
        {
            throw new ServingException(FailureKind.InvalidInput, $"label request must be {{\"version\": N}}: {ex.Message}", ex);
        }

        await manager.SetLabelAsync(modelName, label, version, cancellationToken);
        return TypedResults.NoContent();
    }

    private static async Task<NoContent> RemoveLabelAsync(string modelName, string label, ModelManager manager, CancellationToken cancellationToken)
    {
        await manager.RemoveLabelAsync(modelName, label, cancellationToken);
        return TypedResults.NoContent();
    }

    private static async Task<NoContent> DeleteVersionAsync(string modelName, string modelVersion, ModelManager manager, CancellationToken cancellationToken)
    {
        await manager.DeleteVersionAsync(modelName, ModelVersionRoute.Parse(modelVersion)!.Value, cancellationToken);
        return TypedResults.NoContent();
    }

    private static async Task<NoContent> DeleteModelAsync(string modelName, ModelManager manager, CancellationToken cancellationToken)
    {
        await manager.DeleteModelAsync(modelName, cancellationToken);
        return TypedResults.NoContent();
    }

    /// <summary>Lets this request's body exceed the server-wide limit, up to <paramref name="limit"/> bytes.</summary>
    internal static void RaiseBodyLimit(HttpContext context, long limit)
    {
        var feature = context.Features.Get<IHttpMaxRequestBodySizeFeature>();
        if (feature is { IsReadOnly: false })
        {
            feature.MaxRequestBodySize = limit;
        }
    }

    internal static async Task<byte[]> ReadSmallAsync(Stream body, int limit, string what, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[8192];
        int read;
        while ((read = await body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > limit)
            {
                throw new ServingException(FailureKind.PayloadTooLarge, $"the {what} is larger than {limit} bytes");
            }

            await buffer.WriteAsync(chunk.AsMemory(0, read), cancellationToken);
        }

        return buffer.ToArray();
    }
}
