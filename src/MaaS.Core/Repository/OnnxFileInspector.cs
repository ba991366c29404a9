namespace MaaS.Core.Repository;

/// <summary>
/// Checks an uploaded ONNX file before ONNX Runtime opens it: the bytes must be a protobuf ModelProto with a graph,
/// and every tensor stored as external data must name a relative file inside the version directory. ONNX Runtime
/// would otherwise read whatever path a hostile model names (<c>/etc/passwd</c>, <c>../../other-model</c>).
/// The file is walked field by field; tensor payloads are skipped, never read into memory.
/// </summary>
internal static class OnnxFileInspector
{
    // Field numbers from onnx.proto.
    private const int ModelGraph = 7;
    private const int ModelFunctions = 25;
    private const int GraphNode = 1;
    private const int GraphInitializer = 5;
    private const int GraphSparseInitializer = 15;
    private const int NodeAttribute = 5;
    private const int FunctionNode = 7;
    private const int AttributeTensor = 5;
    private const int AttributeGraph = 6;
    private const int AttributeTensors = 10;
    private const int AttributeGraphs = 11;
    private const int AttributeSparseTensor = 22;
    private const int AttributeSparseTensors = 23;
    private const int SparseValues = 1;
    private const int SparseIndices = 2;
    private const int TensorExternalData = 13;
    private const int EntryKey = 1;
    private const int EntryValue = 2;
    private const int MaxDepth = 64;

    /// <summary>Throws <see cref="ModelConfigException"/> saying why the file cannot be accepted.</summary>
    public static void Inspect(string file)
    {
        using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 64 * 1024);
        if (stream.Length == 0)
        {
            throw new ModelConfigException("the model file is empty");
        }

        var reader = new ProtobufReader(stream);
        var sawGraph = false;
        try
        {
            while (reader.TryReadField(stream.Length, out var field, out var wireType))
            {
                if (field == ModelGraph && wireType == ProtobufReader.LengthDelimited)
                {
                    sawGraph = true;
                    Graph(reader, reader.ReadLength(), 0);
                }
                else if (field == ModelFunctions && wireType == ProtobufReader.LengthDelimited)
                {
                    Message(reader, reader.ReadLength(), 0, FunctionNode, Node);
                }
                else
                {
                    reader.Skip(wireType, stream.Length);
                }
            }
        }
        catch (InvalidDataException ex)
        {
            throw new ModelConfigException($"the file is not an ONNX model: {ex.Message}", ex);
        }

        if (!sawGraph)
        {
            throw new ModelConfigException("the file is not an ONNX model: it has no graph");
        }
    }

    private static void Graph(ProtobufReader reader, long end, int depth)
    {
        Enter(depth);
        while (reader.TryReadField(end, out var field, out var wireType))
        {
            var nested = wireType == ProtobufReader.LengthDelimited;
            if (nested && field == GraphNode)
            {
                Node(reader, reader.ReadLength(), depth + 1);
            }
            else if (nested && field == GraphInitializer)
            {
                Tensor(reader, reader.ReadLength(), depth + 1);
            }
            else if (nested && field == GraphSparseInitializer)
            {
                SparseTensor(reader, reader.ReadLength(), depth + 1);
            }
            else
            {
                reader.Skip(wireType, end);
            }
        }
    }

    private static void Node(ProtobufReader reader, long end, int depth) => Message(reader, end, depth, NodeAttribute, Attribute);

    private static void Attribute(ProtobufReader reader, long end, int depth)
    {
        Enter(depth);
        while (reader.TryReadField(end, out var field, out var wireType))
        {
            if (wireType != ProtobufReader.LengthDelimited)
            {
                reader.Skip(wireType, end);
                continue;
            }

            var length = reader.ReadLength();
            switch (field)
            {
                case AttributeTensor or AttributeTensors:
                    Tensor(reader, length, depth + 1);
                    break;
                case AttributeGraph or AttributeGraphs:
                    Graph(reader, length, depth + 1);
                    break;
                case AttributeSparseTensor or AttributeSparseTensors:
                    SparseTensor(reader, length, depth + 1);
                    break;
                default:
                    reader.SkipTo(length);
                    break;
            }
        }
    }

    private static void SparseTensor(ProtobufReader reader, long end, int depth)
    {
        Enter(depth);
        while (reader.TryReadField(end, out var field, out var wireType))
        {
            if (wireType == ProtobufReader.LengthDelimited && field is SparseValues or SparseIndices)
            {
                Tensor(reader, reader.ReadLength(), depth + 1);
            }
            else
            {
                reader.Skip(wireType, end);
            }
        }
    }

    private static void Tensor(ProtobufReader reader, long end, int depth)
    {
        Enter(depth);
        while (reader.TryReadField(end, out var field, out var wireType))
        {
            if (field == TensorExternalData && wireType == ProtobufReader.LengthDelimited)
            {
                ExternalDataEntry(reader, reader.ReadLength());
            }
            else
            {
                reader.Skip(wireType, end);
            }
        }
    }

    private static void ExternalDataEntry(ProtobufReader reader, long end)
    {
        string? key = null;
        string? value = null;
        while (reader.TryReadField(end, out var field, out var wireType))
        {
            if (wireType == ProtobufReader.LengthDelimited && field is EntryKey or EntryValue)
            {
                var text = reader.ReadString(reader.ReadLength());
                (key, value) = field == EntryKey ? (text, value) : (key, text);
            }
            else
            {
                reader.Skip(wireType, end);
            }
        }

        if (key == "location")
        {
            CheckLocation(value ?? "");
        }
    }

    /// <summary>A location must be a relative path that stays inside the version directory.</summary>
    public static void CheckLocation(string location)
    {
        var segments = location.Split('/', '\\');
        if (location.Length == 0
            || Path.IsPathRooted(location)
            || location.Contains(':', StringComparison.Ordinal)
            || location.Any(char.IsControl)
            || segments.Any(segment => segment is ".."))
        {
            throw new ModelConfigException(
                $"external data location '{location}' is refused: it must be a relative path inside the version directory");
        }
    }

    private static void Message(ProtobufReader reader, long end, int depth, int nestedField, Action<ProtobufReader, long, int> nested)
    {
        Enter(depth);
        while (reader.TryReadField(end, out var field, out var wireType))
        {
            if (field == nestedField && wireType == ProtobufReader.LengthDelimited)
            {
                nested(reader, reader.ReadLength(), depth + 1);
            }
            else
            {
                reader.Skip(wireType, end);
            }
        }
    }

    private static void Enter(int depth)
    {
        if (depth > MaxDepth)
        {
            throw new InvalidDataException($"graphs are nested more than {MaxDepth} deep");
        }
    }
}
