using MaaS.Core.Optimization.Onnx;

namespace MaaS.Core.Optimization;

/// <summary>Every graph and tensor of a model: the main graph, subgraphs in attributes, functions, training graphs.</summary>
internal static class OnnxGraphWalk
{
    public static IEnumerable<GraphProto> Graphs(ModelProto model)
    {
        var roots = new List<GraphProto>();
        if (model.Graph is not null)
        {
            roots.Add(model.Graph);
        }

        foreach (var training in model.TrainingInfo)
        {
            if (training.Initialization is not null)
            {
                roots.Add(training.Initialization);
            }

            if (training.Algorithm is not null)
            {
                roots.Add(training.Algorithm);
            }
        }

        roots.AddRange(model.Functions.SelectMany(function => function.Node).SelectMany(Subgraphs));
        return roots.SelectMany(GraphAndSubgraphs);
    }

    /// <summary>The graph, then every graph nested in its nodes' attributes, depth first.</summary>
    public static IEnumerable<GraphProto> GraphAndSubgraphs(GraphProto graph)
    {
        yield return graph;
        foreach (var subgraph in graph.Node.SelectMany(Subgraphs).SelectMany(GraphAndSubgraphs))
        {
            yield return subgraph;
        }
    }

    public static IEnumerable<GraphProto> Subgraphs(NodeProto node) =>
        node.Attribute.SelectMany(attribute => attribute.G is null ? attribute.Graphs : attribute.Graphs.Prepend(attribute.G));

    public static IEnumerable<TensorProto> Tensors(ModelProto model)
    {
        var nodes = Graphs(model).SelectMany(graph => graph.Node).Concat(model.Functions.SelectMany(f => f.Node));
        foreach (var graph in Graphs(model))
        {
            foreach (var tensor in graph.Initializer)
            {
                yield return tensor;
            }

            foreach (var tensor in graph.SparseInitializer.SelectMany(Parts))
            {
                yield return tensor;
            }
        }

        foreach (var attribute in nodes.SelectMany(node => node.Attribute))
        {
            if (attribute.T is not null)
            {
                yield return attribute.T;
            }

            foreach (var tensor in attribute.Tensors)
            {
                yield return tensor;
            }

            var sparse = attribute.SparseTensor is null ? attribute.SparseTensors : attribute.SparseTensors.Prepend(attribute.SparseTensor);
            foreach (var tensor in sparse.SelectMany(Parts))
            {
                yield return tensor;
            }
        }
    }

    private static IEnumerable<TensorProto> Parts(SparseTensorProto sparse)
    {
        if (sparse.Values is not null)
        {
            yield return sparse.Values;
        }

        if (sparse.Indices is not null)
        {
            yield return sparse.Indices;
        }
    }
}
