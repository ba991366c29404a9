using MaaS.Core.Config;
using MaaS.Core.Inference;
using MaaS.Core.Repository;
using MaaS.Core.Tensors;

namespace MaaS.Core.Sessions;

// Buffers move into inputs and inputs into requests; the loader disposes each sample's request after running it.
#pragma warning disable CA2000

/// <summary>
/// Requests a version runs on every instance before it reports READY, so the first client does not pay for lazy
/// initialisation: config <c>model_warmup</c> (Triton's form: name, batch_size, count, inputs with zero_data,
/// random_data or input_data_file), or by default one zero-filled request with variable dims set to 1.
/// </summary>
internal static class Warmup
{
    /// <summary>One warmup request and how many times to run it.</summary>
    public sealed record Sample(string Name, InferRequest Request, int Count);

    /// <summary>
    /// The configured samples (already checked by <see cref="ModelConfigReader"/>); an empty list when the config has
    /// none. What depends on the ONNX file (input names, datatypes, shapes, an inferred max_batch_size) and the
    /// warmup files themselves are checked here.
    /// </summary>
    public static List<Sample> FromConfig(List<WarmupSampleConfig>? warmup, ModelSignature signature, string modelPath)
    {
        var samples = new List<Sample>();
        try
        {
            for (var i = 0; i < (warmup?.Count ?? 0); i++)
            {
                samples.Add(ToSample(warmup![i], $"model_warmup[{i}]", signature, modelPath));
            }
        }
        catch
        {
            foreach (var sample in samples)
            {
                sample.Request.Dispose();
            }

            throw;
        }

        return samples;
    }

    /// <summary>One request of zeros (empty strings for BYTES), batch 1, every variable dim 1.</summary>
    public static Sample Default(ModelSignature signature)
    {
        var request = new InferRequest();
        foreach (var spec in signature.Inputs)
        {
            var dims = spec.Dims.Select(dim => dim < 0 ? 1 : dim).ToArray();
            var shape = signature.MaxBatchSize > 0 ? [1, .. dims] : dims;
            request.Inputs.Add(Filled(spec, shape, random: false));
        }

        AddOutputs(request, signature);
        return new Sample("default", request, 1);
    }

    private static Sample ToSample(WarmupSampleConfig sample, string path, ModelSignature signature, string modelPath)
    {
        var batch = (int)(sample.BatchSize ?? 1);
        if (signature.MaxBatchSize > 0 && batch > signature.MaxBatchSize)
        {
            throw new ModelConfigException($"config.json: {path}.batch_size must be 1 to max_batch_size ({signature.MaxBatchSize})");
        }

        var inputs = sample.Inputs!;
        var request = new InferRequest();
        try
        {
            foreach (var spec in signature.Inputs)
            {
                if (!inputs.TryGetValue(spec.Name, out var input))
                {
                    if (spec.Optional)
                    {
                        continue;
                    }

                    throw new ModelConfigException($"config.json: {path}.inputs has no entry for input '{spec.Name}'");
                }

                request.Inputs.Add(ToInput(input, $"{path}.inputs.{spec.Name}", spec, signature.MaxBatchSize > 0 ? batch : 0, modelPath));
            }

            foreach (var name in inputs.Keys.Where(name => !signature.TryGetInput(name, out _)))
            {
                throw new ModelConfigException($"config.json: {path}.inputs names '{name}', which is not an input of the model");
            }

            AddOutputs(request, signature);
            return new Sample(sample.Name ?? path, request, (int)Math.Max(sample.Count ?? 1, 1));
        }
        catch
        {
            request.Dispose();
            throw;
        }
    }

    private static InferInput ToInput(WarmupInputConfig input, string path, TensorSpec spec, int batch, string modelPath)
    {
        if (input.DataType is { } type && (!TensorDataTypes.TryParseConfigName(type, out var declared) || declared != spec.DataType))
        {
            throw new ModelConfigException($"config.json: {path}.data_type must be {spec.DataType.ToConfigName()}");
        }

        var dims = input.Dims ?? spec.Dims.Select(dim => dim < 0 ? 1 : dim).ToArray();
        if (!TensorShape.Matches(dims, spec.Dims))
        {
            throw new ModelConfigException($"config.json: {path}.dims must be sizes that fit {TensorShape.Format(spec.Dims)}");
        }

        var shape = batch > 0 ? [batch, .. dims] : dims;
        if (input.InputDataFile is { } file)
        {
            return FromFile(spec, shape, Path.Combine(modelPath, "warmup", file), path);
        }

        return Filled(spec, shape, random: input.RandomData == true);
    }

    private static InferInput FromFile(TensorSpec spec, long[] shape, string file, string path)
    {
        if (!File.Exists(file))
        {
            throw new ModelConfigException($"config.json: {path}.input_data_file must name a file in the model's warmup directory");
        }

        var bytes = File.ReadAllBytes(file);
        var count = TensorShape.ElementCount(shape);
        var fits = spec.DataType == TensorDataType.Bytes ? BytesElements.Count(bytes) == count : bytes.LongLength == count * spec.DataType.ElementSize();
        return fits
            ? new InferInput(spec.Name, spec.DataType, shape, TensorBuffer.CopyOf(bytes))
            : throw new ModelConfigException($"config.json: {path}.input_data_file does not hold a {spec.DataType.ToProtocolName()} {TensorShape.Format(shape)} tensor");
    }

    private static InferInput Filled(TensorSpec spec, long[] shape, bool random)
    {
        var count = (int)TensorShape.ElementCount(shape);
        if (spec.DataType == TensorDataType.Bytes)
        {
            var strings = TensorBuffer.Rent(count * 4);
            strings.Span.Clear();
            return new InferInput(spec.Name, spec.DataType, shape, strings);
        }

        var buffer = TensorBuffer.Rent(count * spec.DataType.ElementSize());
        if (random && spec.DataType is TensorDataType.Fp32)
        {
            var values = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(buffer.Span);
            for (var i = 0; i < values.Length; i++)
            {
                values[i] = (float)Random.Shared.NextDouble();
            }
        }
        else
        {
            // Zeros are valid for every type (including token ids and masks); random bytes would not be.
            buffer.Span.Clear();
        }

        return new InferInput(spec.Name, spec.DataType, shape, buffer);
    }

    private static void AddOutputs(InferRequest request, ModelSignature signature)
    {
        foreach (var output in signature.Outputs)
        {
            request.Outputs.Add(new RequestedOutput(output.Name, Binary: true));
        }
    }
}
#pragma warning restore CA2000
