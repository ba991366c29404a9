using MaaS.Core.Optimization.Onnx;

namespace MaaS.Core.Optimization;

/// <summary>Fresh value and node names for what a transform adds, unique across the whole model (subgraphs included).</summary>
internal sealed class OnnxNames
{
    private readonly HashSet<string> _taken = new(StringComparer.Ordinal);

    public OnnxNames(ModelProto model)
    {
        foreach (var graph in OnnxGraphWalk.Graphs(model))
        {
            _taken.UnionWith(graph.Input.Select(value => value.Name));
            _taken.UnionWith(graph.Output.Select(value => value.Name));
            _taken.UnionWith(graph.ValueInfo.Select(value => value.Name));
            _taken.UnionWith(graph.Initializer.Select(tensor => tensor.Name));
            foreach (var node in graph.Node)
            {
                _taken.UnionWith(node.Input);
                _taken.UnionWith(node.Output);
                _taken.Add(node.Name);
            }
        }
    }

    public string Fresh(string stem)
    {
        if (_taken.Add(stem))
        {
            return stem;
        }

        for (var i = 1; ; i++)
        {
            var candidate = $"{stem}_{i}";
            if (_taken.Add(candidate))
            {
                return candidate;
            }
        }
    }
}
