using System.Globalization;
using MaaS.Core;

namespace MaaS.Server.Endpoints.V2;

/// <summary>
/// The optional <c>/versions/{modelVersion}</c> path segment, bound from the route so that one handler serves both
/// forms of a route. Digits only: anything else does not match the route (404, as Triton).
/// </summary>
internal sealed record ModelVersionRoute(long? Number)
{
    public const string Segment = "/versions/{modelVersion:regex(^[0-9]+$)}";

    public static ValueTask<ModelVersionRoute> BindAsync(HttpContext context) =>
        ValueTask.FromResult(new ModelVersionRoute(Parse(context.GetRouteValue("modelVersion") as string)));

    private static long? Parse(string? modelVersion)
    {
        if (modelVersion is null)
        {
            return null;
        }

        return long.TryParse(modelVersion, NumberStyles.None, CultureInfo.InvariantCulture, out var version) && version > 0
            ? version
            : throw ServingException.Invalid($"model version '{modelVersion}' is not a positive integer");
    }
}
