using System.Text.Json;
using System.Text.Json.Serialization;

namespace MaaS.Core.Inference;

[JsonSerializable(typeof(JsonElement))]
internal sealed partial class CoreJsonContext : JsonSerializerContext;
