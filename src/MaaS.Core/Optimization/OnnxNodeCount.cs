using MaaS.Core.Repository;

namespace MaaS.Core.Optimization;

/// <summary>
/// Counts the nodes of an ONNX file's main graph (not those inside subgraphs or functions) by walking the protobuf
/// fields, skipping every payload: cheap enough to run on a multi-gigabyte model, and needs no ONNX classes.
/// </summary>
internal static class OnnxNodeCount
{
    private const int ModelGraph = 7;
    private const int GraphNode = 1;

    /// <summary>The node count, or null when the file is not a readable ONNX model.</summary>
    public static int? Of(string path)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 64 * 1024);
            var reader = new ProtobufReader(stream);
            while (reader.TryReadField(stream.Length, out var field, out var wireType))
            {
                if (field == ModelGraph && wireType == ProtobufReader.LengthDelimited)
                {
                    return Nodes(reader, reader.ReadLength());
                }

                reader.Skip(wireType, stream.Length);
            }

            return null;
        }
        catch (Exception ex) when (ex is InvalidDataException or IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static int Nodes(ProtobufReader reader, long end)
    {
        var count = 0;
        while (reader.TryReadField(end, out var field, out var wireType))
        {
            if (field == GraphNode && wireType == ProtobufReader.LengthDelimited)
            {
                count++;
            }

            reader.Skip(wireType, end);
        }

        return count;
    }
}
