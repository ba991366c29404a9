using MaaS.Core.Config;
using MaaS.Core.Inference;
using MaaS.Core.Repository;
using MaaS.Core.Tensors;
using Microsoft.ML.OnnxRuntime;

namespace MaaS.Core.Sessions;

/// <summary>
/// Merges config.json with what the ONNX graph declares. The graph is the truth for names and types; the config may
/// narrow dims and set the batch size. What the config leaves out is inferred: a model batches (max_batch_size =
/// the server default) when every input and output has a variable first dimension.
/// </summary>
internal static class SignatureBuilder
{
    public static ModelSignature Build(
        ModelConfig? config, IReadOnlyDictionary<string, NodeMetadata> inputs, IReadOnlyDictionary<string, NodeMetadata> outputs, int defaultMaxBatchSize)
    {
        var maxBatch = config?.MaxBatchSize ?? (AllBatchable(inputs) && AllBatchable(outputs) ? defaultMaxBatchSize : 0);
        return new ModelSignature(
            maxBatch,
            Merge(config?.Input, inputs, maxBatch, "input"),
            Merge(config?.Output, outputs, maxBatch, "output"));
    }

    private static bool AllBatchable(IReadOnlyDictionary<string, NodeMetadata> nodes) =>
        nodes.Count > 0 && nodes.Values.All(node => node.IsTensor && node.Dimensions.Length > 0 && node.Dimensions[0] < 0);

    private static List<TensorSpec> Merge(
        List<TensorConfig>? configured, IReadOnlyDictionary<string, NodeMetadata> nodes, int maxBatch, string kind)
    {
        foreach (var tensor in configured ?? [])
        {
            if (!nodes.ContainsKey(tensor.Name!))
            {
                throw new ModelConfigException(
                    $"config {kind} '{tensor.Name}' is not an {kind} of the ONNX model, which has: {string.Join(", ", nodes.Keys)}");
            }
        }

        var specs = new List<TensorSpec>(nodes.Count);
        foreach (var (name, node) in nodes)
        {
            var tensor = configured?.Find(t => t.Name == name);
            specs.Add(BuildSpec(name, node, tensor, maxBatch, kind));
        }

        return specs;
    }

    private static TensorSpec BuildSpec(string name, NodeMetadata node, TensorConfig? tensor, int maxBatch, string kind)
    {
        if (!node.IsTensor || !TensorDataTypes.TryFromOnnx(node.ElementDataType, out var dataType))
        {
            throw new ModelConfigException(
                $"{kind} '{name}' is a {(node.IsTensor ? node.ElementDataType.ToString() : node.OnnxValueType.ToString())}; only tensors of the protocol's datatypes can be served");
        }

        if (tensor?.DataType is { } configured)
        {
            if (!TensorDataTypes.TryParseConfigName(configured, out var configuredType) || configuredType != dataType)
            {
                throw new ModelConfigException(
                    $"config {kind} '{name}' declares {configured}, but the ONNX model's {kind} is {dataType.ToConfigName()}");
            }
        }

        var graphDims = Array.ConvertAll(node.Dimensions, dim => dim < 0 ? -1L : dim);
        if (maxBatch > 0)
        {
            if (graphDims.Length == 0 || graphDims[0] >= 0)
            {
                throw new ModelConfigException(
                    $"max_batch_size is {maxBatch}, but {kind} '{name}' has no variable first dimension to batch on (ONNX shape {TensorShape.Format(graphDims)}); set max_batch_size to 0");
            }

            graphDims = graphDims[1..];
        }

        var dims = tensor?.Dims is { } configuredDims ? Narrow(configuredDims, graphDims, name, kind) : graphDims;
        return new TensorSpec(name, dataType, dims)
        {
            LabelFileName = tensor?.LabelFilename,
            Optional = tensor?.Optional ?? false,
        };
    }

    private static long[] Narrow(long[] configured, long[] graph, string name, string kind)
    {
        var compatible = configured.Length == graph.Length;
        for (var i = 0; compatible && i < graph.Length; i++)
        {
            compatible = graph[i] < 0 || configured[i] < 0 || graph[i] == configured[i];
        }

        if (!compatible)
        {
            throw new ModelConfigException(
                $"config {kind} '{name}' has dims {TensorShape.Format(configured)}, but the ONNX model's are {TensorShape.Format(graph)} (batch dim excluded)");
        }

        return configured.Select((dim, i) => dim >= 0 ? dim : graph[i]).ToArray();
    }
}
