using System.Globalization;
using MaaS.Core;
using MaaS.Core.Registry;

namespace MaaS.Server.Endpoints.V2;

/// <summary>
/// Which version a route addresses: <c>/versions/{modelVersion}</c>, <c>/labels/{label}</c>, or neither (the latest
/// READY version). Bound from the route so that one handler serves every form. Versions are digits only: anything
/// else does not match the route (404, as Triton).
/// </summary>
internal sealed record ModelVersionRoute(long? Number, string? Label)
{
    public const string VersionSegment = "/versions/{modelVersion:regex(^[0-9]+$)}";

    public const string LabelSegment = "/labels/{label}";

    /// <summary>The three ways to address a version, as route prefixes.</summary>
    public static readonly string[] Prefixes = ["", VersionSegment, LabelSegment];

    /// <summary>Neither a version nor a label: the latest READY version (one shared instance; records are immutable).</summary>
    public static readonly ModelVersionRoute Latest = new(null, null);

    public static ValueTask<ModelVersionRoute> BindAsync(HttpContext context)
    {
        var version = context.GetRouteValue("modelVersion") as string;
        var label = context.GetRouteValue("label") as string;
        return ValueTask.FromResult(version is null && label is null ? Latest : new ModelVersionRoute(Parse(version), label));
    }

    /// <summary>Leases the addressed version (loading it again if it was evicted): 404 when unknown, 503 when it cannot serve.</summary>
    public Task<VersionLease> AcquireAsync(LoadedModelCache cache, string modelName, CancellationToken cancellationToken) =>
        cache.AcquireAsync(modelName, Number, Label, cancellationToken);

    /// <summary>The addressed version's number, or null for "latest"; 404 for an unknown label.</summary>
    public long? Resolve(ModelRegistry registry, string modelName) =>
        Label is null ? Number : registry.ResolveLabel(modelName, Label);

    public static long? Parse(string? modelVersion)
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
