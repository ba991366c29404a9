using System.Collections.Frozen;
using System.Globalization;
using System.Text.Json;
using MaaS.Core.Repository;
using MaaS.Core.Tensors;

namespace MaaS.Core.Config;

/// <summary>
/// The one check of a parsed config.json, run when it is read (scan, upload, config change), so a bad section is
/// refused then and not when a version loads. Keys a record does not declare are sorted: a Triton key we do not
/// implement goes to <see cref="ModelConfig.Ignored"/> under its path; anything else is an error naming the key and
/// its path. Every value is range-checked; only what depends on the ONNX file (input names, an inferred
/// max_batch_size) is left to the load.
/// </summary>
internal sealed partial class ModelConfigValidator
{
    private readonly ModelConfig _config;

    private ModelConfigValidator(ModelConfig config) => _config = config;

    /// <summary>Throws <see cref="ModelConfigException"/> naming the first bad key; fills <see cref="ModelConfig.Ignored"/>.</summary>
    public static void Validate(ModelConfig config)
    {
        var validator = new ModelConfigValidator(config);
        validator.Model();
        validator.InstanceGroups();
        validator.Optimization();
        validator.DynamicBatching();
        validator.ModelWarmup();
        validator.Pipeline();
    }

    private void Model()
    {
        var config = _config;
        SortKeys(config.Unknown, "", TritonConfigKeys.Model, typeof(ModelConfig));
        if (config.MaxBatchSize is < 0)
        {
            throw Error($"max_batch_size must be 0 or more, not {config.MaxBatchSize}");
        }

        if (config.Platform is not null && config.Platform != "onnxruntime_onnx")
        {
            throw Error($"platform '{config.Platform}' is not served here; expected 'onnxruntime_onnx'");
        }

        if (config.Backend is not null && config.Backend != "onnxruntime")
        {
            throw Error($"backend '{config.Backend}' is not served here; expected 'onnxruntime'");
        }

        Tensors(config.Input, "input");
        Tensors(config.Output, "output");
        VersionPolicy(config.VersionPolicy);
        if (config.DefaultModelFilename is { } file && (file.Length == 0 || file != Path.GetFileName(file) || file is "." or ".."))
        {
            throw Error("default_model_filename must be a plain file name");
        }

        foreach (var (label, version) in config.Labels ?? [])
        {
            if (label.Length == 0 || version < 1)
            {
                throw Error($"labels.{label} must name a version number from 1, not {version}");
            }
        }

        Parameters(config);
    }

    /// <summary>
    /// <c>parameters</c>: those Triton's ONNX Runtime backend reads as session options are checked and applied (unless a
    /// key of ours in <c>optimization</c> says otherwise); every other one is reported as ignored, as the server reads none.
    /// </summary>
    private void Parameters(ModelConfig config)
    {
        foreach (var (key, parameter) in config.Parameters ?? [])
        {
            SortKeys(Entry(parameter, $"parameters.{key}").Unknown, $"parameters.{key}", TritonConfigKeys.None, typeof(ModelParameterConfig));
            if (!OnnxRuntimeParameters.IsApplied(key, config.Optimization))
            {
                _config.Ignored[$"parameters.{key}"] = JsonSerializer.SerializeToElement(parameter, RepositoryJsonContext.Default.ModelParameterConfig);
            }
        }

        OnnxRuntimeParameters.Read(config.Parameters);
    }

    private void Tensors(List<TensorConfig>? tensors, string section)
    {
        for (var i = 0; i < (tensors?.Count ?? 0); i++)
        {
            var path = $"{section}[{i}]";
            var tensor = Entry(tensors![i], path);
            SortKeys(tensor.Unknown, path, TritonConfigKeys.Tensor, typeof(TensorConfig));
            if (string.IsNullOrEmpty(tensor.Name))
            {
                throw Error($"{path}.name is required");
            }

            if (tensor.DataType is { } type && !TensorDataTypes.TryParseConfigName(type, out _))
            {
                throw Error($"{path}.data_type '{type}' is not a type such as TYPE_FP32");
            }

            if (tensor.Dims?.Any(dim => dim < -1) == true)
            {
                throw Error($"{path}.dims may hold sizes and -1 (variable) only");
            }

            if (tensor.LabelFilename is { } labels && labels != Path.GetFileName(labels))
            {
                throw Error($"{path}.label_filename must be a file in the model's directory");
            }
        }
    }

    private void VersionPolicy(VersionPolicyConfig? policy)
    {
        if (policy is null)
        {
            return;
        }

        SortKeys(policy.Unknown, "version_policy", TritonConfigKeys.None, typeof(VersionPolicyConfig));
        SortKeys(policy.Latest?.Unknown, "version_policy.latest", TritonConfigKeys.None, typeof(LatestPolicy));
        SortKeys(policy.All?.Unknown, "version_policy.all", TritonConfigKeys.None, typeof(AllPolicy));
        SortKeys(policy.Specific?.Unknown, "version_policy.specific", TritonConfigKeys.None, typeof(SpecificPolicy));
        var kinds = (policy.Latest is null ? 0 : 1) + (policy.All is null ? 0 : 1) + (policy.Specific is null ? 0 : 1);
        if (kinds != 1)
        {
            throw Error("version_policy needs exactly one of latest, all, specific");
        }

        if (policy.Latest is { NumVersions: < 1 })
        {
            throw Error("version_policy.latest.num_versions must be 1 or more");
        }

        if (policy.Specific is { } specific && (specific.Versions.Length == 0 || specific.Versions.Any(v => v < 1)))
        {
            throw Error("version_policy.specific.versions must list positive version numbers");
        }
    }

    /// <summary>Records <paramref name="unknown"/> as ignored Triton keys, or throws for the first that is not one.</summary>
    private void SortKeys(Dictionary<string, JsonElement>? unknown, string path, FrozenSet<string> triton, Type declaredBy)
    {
        foreach (var (key, value) in unknown ?? [])
        {
            var full = path.Length == 0 ? key : $"{path}.{key}";
            if (!triton.Contains(key))
            {
                var expected = RepositoryJsonContext.Default.GetTypeInfo(declaredBy)!.Properties.Select(property => property.Name).ToList();
                throw Error($"unknown key '{full}'; expected {(expected.Count == 0 ? "no keys" : string.Join(", ", expected))}");
            }

            _config.Ignored[full] = value;
        }
    }

    /// <summary>A list or map entry, which JSON may give as null.</summary>
    private static T Entry<T>(T? entry, string path)
        where T : class =>
        entry ?? throw Error($"{path} must be a JSON object");

    /// <summary><paramref name="value"/>, or <paramref name="fallback"/> when absent, checked against [min, max].</summary>
    private static long Range(long? value, long fallback, string path, long min, long max)
    {
        var number = value ?? fallback;
        return number >= min && number <= max
            ? number
            : throw Error($"{path} must be an integer from {min} to {max}, not {number.ToString(CultureInfo.InvariantCulture)}");
    }

    private static ModelConfigException Error(string message) => new($"config.json: {message}");
}
