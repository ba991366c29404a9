using System.Text.Json;
using System.Text.Json.Nodes;
using MaaS.Core.Inference;
using MaaS.Core.Repository;

namespace MaaS.Server.Endpoints.V2;

/// <summary>
/// The effective model config in Triton's ModelConfig JSON form (snake_case, enums as strings, defaults printed), so
/// tools that read Triton's <c>/config</c> read ours: the config.json merged with what the ONNX file declares.
/// </summary>
internal static class ModelConfigJson
{
    public const string Platform = "onnxruntime_onnx";

    /// <summary>The effective config; <c>instances</c> (what the version runs) fills the default instance_group when the config has none.</summary>
    public static JsonObject Build(ModelDirectory model, ModelSignature signature, int instances)
    {
        var config = model.Config;
        var json = new JsonObject
        {
            ["name"] = model.Name,
            ["platform"] = Platform,
            ["backend"] = "onnxruntime",
            ["max_batch_size"] = signature.MaxBatchSize,
            ["input"] = Tensors(signature.Inputs, isInput: true),
            ["output"] = Tensors(signature.Outputs, isInput: false),
            ["version_policy"] = Node(config?.VersionPolicy is null ? null : JsonSerializer.SerializeToElement(config.VersionPolicy, ConfigJsonContext.Default.VersionPolicyConfig))
                ?? new JsonObject { ["latest"] = new JsonObject { ["num_versions"] = 1 } },
            ["instance_group"] = Node(config?.InstanceGroup)
                ?? new JsonArray(new JsonObject { ["name"] = model.Name, ["kind"] = "KIND_CPU", ["count"] = instances, ["gpus"] = new JsonArray() }),
            ["default_model_filename"] = model.ModelFileName,
            ["parameters"] = Node(config?.Parameters) ?? new JsonObject(),
            ["model_warmup"] = Node(config?.ModelWarmup) ?? new JsonArray(),
            ["labels"] = config?.Labels is { } labels ? new JsonObject(labels.Select(l => KeyValuePair.Create(l.Key, (JsonNode?)l.Value))) : new JsonObject(),
        };
        AddIfSet(json, "dynamic_batching", config?.DynamicBatching);
        AddIfSet(json, "optimization", config?.Optimization);
        if (config?.Pinned is { } pinned)
        {
            json["pinned"] = pinned;
        }

        foreach (var (key, value) in config?.Ignored ?? [])
        {
            json[key] = Node(value);
        }

        return json;
    }

    private static JsonArray Tensors(IReadOnlyList<TensorSpec> specs, bool isInput)
    {
        var array = new JsonArray();
        foreach (var spec in specs)
        {
            var tensor = new JsonObject
            {
                ["name"] = spec.Name,
                ["data_type"] = Core.Tensors.TensorDataTypes.ToConfigName(spec.DataType),
                ["dims"] = new JsonArray(spec.Dims.Select(dim => (JsonNode?)dim).ToArray()),
                ["is_shape_tensor"] = false,
            };
            if (isInput)
            {
                tensor["format"] = "FORMAT_NONE";
                tensor["optional"] = spec.Optional;
            }
            else
            {
                tensor["label_filename"] = spec.LabelFileName ?? "";
            }

            array.Add(tensor);
        }

        return array;
    }

    private static void AddIfSet(JsonObject json, string key, JsonElement? value)
    {
        if (value is not null)
        {
            json[key] = Node(value);
        }
    }

    private static JsonNode? Node(JsonElement? value) =>
        value is { } element ? JsonNode.Parse(element.GetRawText()) : null;
}

[System.Text.Json.Serialization.JsonSerializable(typeof(VersionPolicyConfig))]
[System.Text.Json.Serialization.JsonSourceGenerationOptions(DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
internal sealed partial class ConfigJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
