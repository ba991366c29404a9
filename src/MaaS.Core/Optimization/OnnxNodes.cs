using Google.Protobuf;
using MaaS.Core.Optimization.Onnx;

namespace MaaS.Core.Optimization;

/// <summary>Builds the nodes and reads the attributes the transforms use.</summary>
internal static class OnnxNodes
{
    public const string MicrosoftDomain = "com.microsoft";

    public static NodeProto Node(string opType, string name, IEnumerable<string> inputs, IEnumerable<string> outputs, string domain = "")
    {
        var node = new NodeProto { OpType = opType, Name = name };
        if (domain.Length > 0)
        {
            node.Domain = domain;
        }

        node.Input.AddRange(inputs);
        node.Output.AddRange(outputs);
        return node;
    }

    public static NodeProto WithInt(this NodeProto node, string name, long value)
    {
        node.Attribute.Add(new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value });
        return node;
    }

    public static NodeProto WithInts(this NodeProto node, string name, params long[] values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        attribute.Ints.AddRange(values);
        node.Attribute.Add(attribute);
        return node;
    }

    public static AttributeProto? Attribute(this NodeProto node, string name) =>
        node.Attribute.FirstOrDefault(attribute => attribute.Name == name);

    public static long IntAttribute(this NodeProto node, string name, long fallback) => node.Attribute(name)?.I ?? fallback;

    public static float FloatAttribute(this NodeProto node, string name, float fallback) => node.Attribute(name)?.F ?? fallback;

    public static bool IsDefaultDomain(this NodeProto node) => node.Domain is "" or "ai.onnx";

    /// <summary>The version of the operator set of <paramref name="domain"/> the model imports, or 0.</summary>
    public static long OpsetVersion(ModelProto model, string domain) => model.OpsetImport
        .Where(opset => opset.Domain == domain || (domain == "" && opset.Domain == "ai.onnx"))
        .Select(opset => opset.Version).DefaultIfEmpty(0).Max();

    public static void EnsureOpset(ModelProto model, string domain, long version)
    {
        if (OpsetVersion(model, domain) == 0)
        {
            model.OpsetImport.Add(new OperatorSetIdProto { Domain = domain, Version = version });
        }
    }

    public static ByteString Utf8(string text) => ByteString.CopyFromUtf8(text);
}
