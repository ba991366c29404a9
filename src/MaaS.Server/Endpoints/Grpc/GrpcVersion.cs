using System.Globalization;
using Google.Protobuf.Collections;
using Inference;
using MaaS.Server.Endpoints.V2;

namespace MaaS.Server.Endpoints.Grpc;

/// <summary>
/// The version a gRPC request addresses, as <see cref="ModelVersionRoute"/> for the HTTP routes: a version field of
/// digits is a version number, any other text a label, empty the latest READY version; a <c>label</c> request
/// parameter (a string) also names a label.
/// </summary>
internal static class GrpcVersion
{
    public static ModelVersionRoute Parse(string version, MapField<string, InferParameter>? parameters = null)
    {
        string? label = null;
        if (parameters is not null && parameters.TryGetValue("label", out var parameter))
        {
            label = parameter.ParameterChoiceCase == InferParameter.ParameterChoiceOneofCase.StringParam && parameter.StringParam.Length > 0
                ? parameter.StringParam
                : throw Core.ServingException.Invalid("parameter 'label' must be a non-empty string");
        }

        if (version.Length == 0)
        {
            return new ModelVersionRoute(null, label);
        }

        if (label is not null)
        {
            throw Core.ServingException.Invalid("give either model_version or the 'label' parameter, not both");
        }

        return long.TryParse(version, NumberStyles.None, CultureInfo.InvariantCulture, out _)
            ? new ModelVersionRoute(ModelVersionRoute.Parse(version), null)
            : new ModelVersionRoute(null, version);
    }
}
