using System.Text.Json;
using MaaS.Core;
using MaaS.Core.Registry;
using MaaS.Server.Hosting;
using Microsoft.AspNetCore.Http.HttpResults;

namespace MaaS.Server.Endpoints.V2;

internal static class RepositoryIndexEndpoints
{
    public static RouteHandlerBuilder MapRepositoryIndex(this IEndpointRouteBuilder routes) =>
        routes.MapPost("/v2/repository/index", GetIndexAsync)
            .WithTags("Repository (V2)")
            .RequireInferenceKey(routes)
            .WithSummary("Every model version with its state (READY, LOADING, UNAVAILABLE) and the reason when not READY. Body optional: {\"ready\": true} lists READY versions only.");

    private static async Task<Ok<List<RepositoryIndexEntry>>> GetIndexAsync(HttpRequest request, RepositoryView repository, CancellationToken cancellationToken)
    {
        var readyOnly = await ReadReadyFlagAsync(request, cancellationToken);
        return TypedResults.Ok(repository.Index(readyOnly));
    }

    /// <summary>The optional body <c>{"ready": bool}</c>; tritonclient sends none.</summary>
    private static async Task<bool> ReadReadyFlagAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        using var reader = new StreamReader(request.Body);
        var body = await reader.ReadToEndAsync(cancellationToken);
        if (string.IsNullOrWhiteSpace(body))
        {
            return false;
        }

        try
        {
            using var document = JsonDocument.Parse(body);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw ServingException.Invalid("repository index body must be a JSON object such as {\"ready\": true}");
            }

            if (!document.RootElement.TryGetProperty("ready", out var ready))
            {
                return false;
            }

            return ready.ValueKind switch
            {
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                _ => throw ServingException.Invalid("\"ready\" must be true or false"),
            };
        }
        catch (JsonException ex)
        {
            throw new ServingException(FailureKind.InvalidInput, $"malformed JSON in repository index request: {ex.Message}", ex);
        }
    }
}
