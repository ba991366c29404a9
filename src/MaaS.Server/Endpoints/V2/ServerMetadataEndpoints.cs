using System.Reflection;
using MaaS.Core.Sessions;
using MaaS.Server.Hosting;
using Microsoft.AspNetCore.Http.HttpResults;

namespace MaaS.Server.Endpoints.V2;

internal static class ServerMetadataEndpoints
{
    /// <summary>The protocol extensions this server implements; only these are advertised.</summary>
    internal static readonly string[] Extensions = ["classification", "model_repository", "model_repository(unload_dependents)", "binary_tensor_data", "model_configuration", "statistics"];

    public static RouteHandlerBuilder MapServerMetadata(this IEndpointRouteBuilder routes) =>
        routes.MapGet("/v2", GetMetadata).WithTags("Server (V2)").RequireInferenceKey(routes).WithSummary("Server metadata: name, version, extensions, execution provider.");

    private static Ok<ServerMetadataResponse> GetMetadata(IExecutionProviderFactory provider) =>
        TypedResults.Ok(new ServerMetadataResponse("maas", ServerVersion, Extensions, provider.Name));

    internal static string ServerVersion =>
        typeof(ServerMetadataEndpoints).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";
}
