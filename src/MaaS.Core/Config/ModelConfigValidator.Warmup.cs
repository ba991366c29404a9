using MaaS.Core.Tensors;

namespace MaaS.Core.Config;

/// <summary><c>model_warmup</c>: what can be checked without the ONNX file (input names and shapes are checked at load).</summary>
internal sealed partial class ModelConfigValidator
{
    /// <summary>Most runs of one warmup sample: a load that warms up for minutes is a typo, not a policy.</summary>
    internal const int MaxWarmupCount = 10_000;

    private void ModelWarmup()
    {
        var samples = _config.ModelWarmup;
        for (var i = 0; i < (samples?.Count ?? 0); i++)
        {
            var path = $"model_warmup[{i}]";
            var sample = Entry(samples![i], path);
            SortKeys(sample.Unknown, path, TritonConfigKeys.None, typeof(WarmupSampleConfig));
            var maxBatch = _config.MaxBatchSize is { } max and > 0 ? max : int.MaxValue;
            Range(sample.BatchSize, 1, $"{path}.batch_size", 1, maxBatch);
            Range(sample.Count, 0, $"{path}.count", 0, MaxWarmupCount);
            if (sample.Inputs is null)
            {
                throw Error($"{path}.inputs must map input names to {{data_type, dims, zero_data | random_data | input_data_file}}");
            }

            foreach (var (name, input) in sample.Inputs)
            {
                WarmupInput(Entry(input, $"{path}.inputs.{name}"), $"{path}.inputs.{name}");
            }
        }
    }

    private void WarmupInput(WarmupInputConfig input, string path)
    {
        SortKeys(input.Unknown, path, TritonConfigKeys.None, typeof(WarmupInputConfig));
        if (input.DataType is { } type && !TensorDataTypes.TryParseConfigName(type, out _))
        {
            throw Error($"{path}.data_type '{type}' is not a type such as TYPE_FP32");
        }

        for (var j = 0; j < (input.Dims?.Length ?? 0); j++)
        {
            Range(input.Dims![j], 0, $"{path}.dims[{j}]", 0, int.MaxValue);
        }

        // Triton's oneof: zeros, random values or a file.
        var sources = (input.ZeroData is null ? 0 : 1) + (input.RandomData is null ? 0 : 1) + (input.InputDataFile is null ? 0 : 1);
        if (sources > 1)
        {
            throw Error($"{path} may set only one of zero_data, random_data, input_data_file");
        }

        if (input.InputDataFile is { } file
            && (file.Length == 0 || Path.IsPathRooted(file) || file.EndsWith('/') || file.Split('/', '\\').Any(part => part is "" or "." or "..")))
        {
            throw Error($"{path}.input_data_file must name a file in the model's warmup directory");
        }
    }
}
