using System.Globalization;
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
            .RequireAuthorization(AuthPolicies.Inference)
            .WithSummary("Every model version with its state (READY, LOADING, UNAVAILABLE) and the reason when not READY. Body optional: {\"ready\": true} lists READY versions only.");

    private static async Task<Ok<List<RepositoryIndexEntry>>> GetIndexAsync(
        HttpRequest request, ModelRegistry registry, ModelManager manager, CancellationToken cancellationToken)
    {
        var readyOnly = await ReadReadyFlagAsync(request, cancellationToken);
        if (registry.RepositoryError is { } error)
        {
            throw new ServingException(FailureKind.NotReady, error);
        }

        var entries = new List<RepositoryIndexEntry>();
        if (!readyOnly)
        {
            // Models on disk that were never loaded (added without polling): their name only, as Triton lists them.
            foreach (var name in manager.Store.Scan().Select(model => model.Name).Where(name => !registry.TryGetModel(name, out _)))
            {
                entries.Add(new RepositoryIndexEntry(name, null, null, null));
            }
        }

        foreach (var model in registry.Models)
        {
            if (model.Versions.IsEmpty)
            {
                if (!readyOnly)
                {
                    entries.Add(new RepositoryIndexEntry(model.Name, null, "UNAVAILABLE", model.Error));
                }

                continue;
            }

            foreach (var version in model.Versions.Values)
            {
                if (!readyOnly || version.State == ModelVersionState.Ready)
                {
                    entries.Add(new RepositoryIndexEntry(
                        model.Name, version.Number.ToString(CultureInfo.InvariantCulture), version.State.ToString().ToUpperInvariant(), version.Reason));
                }
            }
        }

        return TypedResults.Ok(entries.OrderBy(entry => entry.Name, StringComparer.Ordinal).ToList());
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
