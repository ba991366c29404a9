using MaaS.Core.Registry;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using System.Text.Json.Serialization;
using MaaS.Server.Endpoints.Health;
using MaaS.Server.Endpoints.V1;
using MaaS.Server.Endpoints.V2;

namespace MaaS.Server.Hosting;

[JsonSerializable(typeof(ErrorResponse))]
[JsonSerializable(typeof(HealthResponse))]
[JsonSerializable(typeof(ServerMetadataResponse))]
[JsonSerializable(typeof(ModelMetadataResponse))]
[JsonSerializable(typeof(List<RepositoryIndexEntry>))]
[JsonSerializable(typeof(ModelListResponse))]
[JsonSerializable(typeof(ModelStatusResponse))]
[JsonSerializable(typeof(JsonObject))]
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
internal sealed partial class MaaSJsonContext : JsonSerializerContext
{
    /// <summary>
    /// Options for every JSON body: the relaxed encoder writes quotes and non-ASCII as themselves (these bodies are never
    /// embedded in HTML), so an error reads "model 'x'", not "model \u0027x\u0027".
    /// </summary>
    public static MaaSJsonContext Relaxed { get; } = new(new JsonSerializerOptions(JsonSerializerDefaults.Web)
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });

    public static JsonWriterOptions WriterOptions { get; } = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static JsonTypeInfo<ErrorResponse> Error => Relaxed.ErrorResponse;
}
