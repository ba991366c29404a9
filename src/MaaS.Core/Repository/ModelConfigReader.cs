using System.Text.Json;
using MaaS.Core.Tensors;

namespace MaaS.Core.Repository;

/// <summary>
/// Reads and checks <c>config.json</c>. A key that is neither ours nor Triton's is an error naming the key; a Triton
/// key we do not implement is accepted and recorded in <see cref="ModelConfig.Ignored"/>, so configs written for
/// Triton still load.
/// </summary>
public static class ModelConfigReader
{
    private static readonly HashSet<string> Supported =
    [
        "name", "platform", "backend", "max_batch_size", "input", "output", "version_policy", "default_model_filename",
        "labels", "parameters", "instance_group", "dynamic_batching", "model_warmup", "optimization", "pinned",
    ];

    private static readonly HashSet<string> TritonOnly =
    [
        "runtime", "batch_input", "batch_output", "sequence_batching", "ensemble_scheduling", "cc_model_filenames",
        "metric_tags", "model_operations", "model_transaction_policy", "model_repository_agents", "response_cache",
        "model_metrics",
    ];

    private static readonly HashSet<string> PolicyKinds = ["latest", "all", "specific"];

    private static readonly (string Kind, HashSet<string> Keys)[] PolicyKeys =
        [("latest", ["num_versions"]), ("all", []), ("specific", ["versions"])];

    private static readonly HashSet<string> TensorKeys = ["name", "data_type", "dims", "label_filename", "optional"];

    private static readonly HashSet<string> TritonTensorKeys =
        ["format", "reshape", "is_shape_tensor", "allow_ragged_batch", "is_non_linear_format_io"];

    /// <summary>Parses <paramref name="json"/>; throws <see cref="ModelConfigException"/> with a message naming the bad key.</summary>
    public static ModelConfig Parse(ReadOnlySpan<byte> json)
    {
        ModelConfig config;
        Dictionary<string, JsonElement> ignored = new(StringComparer.Ordinal);
        try
        {
            using var document = JsonDocument.Parse(json.ToArray(), new JsonDocumentOptions
            {
                CommentHandling = JsonCommentHandling.Skip,
                AllowTrailingCommas = true,
            });
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new ModelConfigException("config.json must hold a JSON object");
            }

            CheckKeys(root, Supported, TritonOnly, "", ignored);
            CheckTensorKeys(root, "input");
            CheckTensorKeys(root, "output");
            CheckVersionPolicyKeys(root);
            config = root.Deserialize(RepositoryJsonContext.Default.ModelConfig)
                ?? throw new ModelConfigException("config.json must hold a JSON object");
        }
        catch (JsonException ex)
        {
            throw new ModelConfigException($"config.json is not valid: {ex.Message}", ex);
        }

        foreach (var (key, value) in ignored)
        {
            config.Ignored[key] = value;
        }

        Validate(config);
        return config;
    }

    private static void CheckKeys(
        JsonElement element, HashSet<string> supported, HashSet<string> tritonOnly, string path, Dictionary<string, JsonElement>? ignored)
    {
        foreach (var property in element.EnumerateObject())
        {
            if (supported.Contains(property.Name))
            {
                continue;
            }

            if (!tritonOnly.Contains(property.Name))
            {
                throw new ModelConfigException($"config.json: unknown key '{path}{property.Name}'");
            }

            ignored?.TryAdd(path + property.Name, property.Value.Clone());
        }
    }

    private static void CheckTensorKeys(JsonElement root, string section)
    {
        if (!root.TryGetProperty(section, out var tensors) || tensors.ValueKind != JsonValueKind.Array)
        {
            return;
        }

        var index = 0;
        foreach (var tensor in tensors.EnumerateArray())
        {
            if (tensor.ValueKind != JsonValueKind.Object)
            {
                throw new ModelConfigException($"config.json: {section}[{index}] must be an object");
            }

            CheckKeys(tensor, TensorKeys, TritonTensorKeys, $"{section}[{index}].", null);
            index++;
        }
    }

    private static void CheckVersionPolicyKeys(JsonElement root)
    {
        if (!root.TryGetProperty("version_policy", out var policy) || policy.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        CheckKeys(policy, PolicyKinds, [], "version_policy.", null);
        foreach (var (kind, keys) in PolicyKeys)
        {
            if (policy.TryGetProperty(kind, out var body) && body.ValueKind == JsonValueKind.Object)
            {
                CheckKeys(body, keys, [], $"version_policy.{kind}.", null);
            }
        }
    }

    private static void Validate(ModelConfig config)
    {
        if (config.MaxBatchSize is < 0)
        {
            throw new ModelConfigException($"config.json: max_batch_size must be 0 or more, not {config.MaxBatchSize}");
        }

        if (config.Platform is not null && config.Platform != "onnxruntime_onnx")
        {
            throw new ModelConfigException($"config.json: platform '{config.Platform}' is not served here; expected 'onnxruntime_onnx'");
        }

        if (config.Backend is not null && config.Backend != "onnxruntime")
        {
            throw new ModelConfigException($"config.json: backend '{config.Backend}' is not served here; expected 'onnxruntime'");
        }

        ValidateTensors(config.Input, "input");
        ValidateTensors(config.Output, "output");
        ValidateVersionPolicy(config.VersionPolicy);
        if (config.DefaultModelFilename is { } file && (file.Length == 0 || file != Path.GetFileName(file) || file is "." or ".."))
        {
            throw new ModelConfigException("config.json: default_model_filename must be a plain file name");
        }
    }

    private static void ValidateTensors(List<TensorConfig>? tensors, string section)
    {
        for (var i = 0; i < (tensors?.Count ?? 0); i++)
        {
            var tensor = tensors![i];
            if (string.IsNullOrEmpty(tensor.Name))
            {
                throw new ModelConfigException($"config.json: {section}[{i}].name is required");
            }

            if (tensor.DataType is { } type && !TensorDataTypes.TryParseConfigName(type, out _))
            {
                throw new ModelConfigException($"config.json: {section}[{i}].data_type '{type}' is not a type such as TYPE_FP32");
            }

            if (tensor.Dims?.Any(dim => dim < -1) == true)
            {
                throw new ModelConfigException($"config.json: {section}[{i}].dims may hold sizes and -1 (variable) only");
            }

            if (tensor.LabelFilename is { } labels && labels != Path.GetFileName(labels))
            {
                throw new ModelConfigException($"config.json: {section}[{i}].label_filename must be a file in the model's directory");
            }
        }
    }

    private static void ValidateVersionPolicy(VersionPolicyConfig? policy)
    {
        if (policy is null)
        {
            return;
        }

        var kinds = (policy.Latest is null ? 0 : 1) + (policy.All is null ? 0 : 1) + (policy.Specific is null ? 0 : 1);
        if (kinds != 1)
        {
            throw new ModelConfigException("config.json: version_policy needs exactly one of latest, all, specific");
        }

        if (policy.Latest is { NumVersions: < 1 })
        {
            throw new ModelConfigException("config.json: version_policy.latest.num_versions must be 1 or more");
        }

        if (policy.Specific is { } specific && (specific.Versions.Length == 0 || specific.Versions.Any(v => v < 1)))
        {
            throw new ModelConfigException("config.json: version_policy.specific.versions must list positive version numbers");
        }
    }
}
