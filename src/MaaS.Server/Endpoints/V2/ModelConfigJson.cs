using System.Text.Json.Nodes;
using MaaS.Core.Batching;
using MaaS.Core.Config;
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

    /// <summary>The platform a pipeline model's config names (not one Triton has: no Triton backend runs it).</summary>
    public const string PipelinePlatform = "maas_pipeline";

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
            ["version_policy"] = ModelConfigReader.ToJson(config?.VersionPolicy)
                ?? new JsonObject { ["latest"] = new JsonObject { ["num_versions"] = 1 } },
            ["instance_group"] = ModelConfigReader.ToJson(config?.InstanceGroup)
                ?? new JsonArray(new JsonObject { ["name"] = model.Name, ["kind"] = "KIND_CPU", ["count"] = instances, ["gpus"] = new JsonArray() }),
            ["default_model_filename"] = model.ModelFileName,
            ["parameters"] = ModelConfigReader.ToJson(config?.Parameters) ?? new JsonObject(),
            ["model_warmup"] = ModelConfigReader.ToJson(config?.ModelWarmup) ?? new JsonArray(),
            ["labels"] = config?.Labels is { } labels ? new JsonObject(labels.Select(l => KeyValuePair.Create(l.Key, (JsonNode?)l.Value))) : new JsonObject(),
        };
        AddIfSet(json, "dynamic_batching", DynamicBatching(config?.DynamicBatching));
        AddIfSet(json, "optimization", ModelConfigReader.ToJson(config?.Optimization));
        if (config?.Pinned is { } pinned)
        {
            json["pinned"] = pinned;
        }

        // Top-level Triton keys we do not apply are shown as written; nested ones come back with their sections.
        foreach (var (key, value) in config?.Unknown ?? [])
        {
            json[key] = JsonNode.Parse(value.GetRawText());
        }

        return json;
    }

    /// <summary>
    /// A pipeline model's config as Triton's readers expect one (perf_analyzer and tritonclient read <c>/config</c>
    /// before they send): its own inputs and outputs, the batch size its inner model takes, platform
    /// <c>maas_pipeline</c>, and the inner model in <c>parameters</c>; the pipeline's steps are in its config.json.
    /// </summary>
    public static JsonObject BuildPipeline(ModelDirectory model, PipelineConfig pipeline, ModelSignature signature) => new()
    {
        ["name"] = model.Name,
        ["platform"] = PipelinePlatform,
        ["backend"] = "maas",
        ["max_batch_size"] = signature.MaxBatchSize,
        ["input"] = Tensors(signature.Inputs, isInput: true),
        ["output"] = Tensors(signature.Outputs, isInput: false),
        ["version_policy"] = new JsonObject { ["latest"] = new JsonObject { ["num_versions"] = 1 } },
        ["parameters"] = new JsonObject { ["pipeline.inner_model"] = new JsonObject { ["string_value"] = pipeline.InnerModel } },
    };

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

    /// <summary>The config's dynamic_batching with the queue bound in effect printed where the config leaves it out.</summary>
    private static JsonObject? DynamicBatching(DynamicBatchingConfig? batching)
    {
        if (ModelConfigReader.ToJson(batching) is not JsonObject json)
        {
            return null;
        }

        var policies = new List<JsonObject>();
        json["default_queue_policy"] ??= new JsonObject();
        policies.Add(json["default_queue_policy"]!.AsObject());
        if (json["priority_queue_policy"] is JsonObject perLevel)
        {
            policies.AddRange(perLevel.Select(level => level.Value!.AsObject()));
        }

        foreach (var policy in policies)
        {
            policy["max_queue_size"] ??= BatchingPolicy.DefaultMaxQueueSize;
        }

        return json;
    }

    private static void AddIfSet(JsonObject json, string key, JsonNode? value)
    {
        if (value is not null)
        {
            json[key] = value;
        }
    }
}
