using System.Globalization;
using Google.Protobuf;
using MaaS.Core.Optimization.Onnx;

namespace MaaS.Core.Optimization;

/// <summary>
/// Loads tensors stored outside the model file (data_location EXTERNAL) into raw_data. A location must be a relative
/// path to a regular file inside the model's own directory, reached without a symbolic link that leaves it: the
/// rules of uploads, since the bytes of whatever file a model names would otherwise end up in a derived version.
/// </summary>
internal static class OnnxExternalData
{
    public static void LoadInline(ModelProto model, string directory, long modelFileBytes, CancellationToken cancellationToken)
    {
        var total = modelFileBytes;
        foreach (var tensor in OnnxGraphWalk.Tensors(model).Where(IsExternal))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var (file, offset, length) = Locate(tensor, directory);
            total += length;
            if (total > OnnxModelFile.MaxModelBytes)
            {
                throw OnnxModelFile.TooLarge(total);
            }

            var bytes = new byte[length];
            using (var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16))
            {
                stream.Position = offset;
                stream.ReadExactly(bytes);
            }

            tensor.RawData = UnsafeByteOperations.UnsafeWrap(bytes);
            tensor.ExternalData.Clear();
            tensor.ClearDataLocation();
        }
    }

    private static bool IsExternal(TensorProto tensor) => tensor.DataLocation == TensorProto.Types.DataLocation.External;

    private static (string File, long Offset, int Length) Locate(TensorProto tensor, string directory)
    {
        var entries = tensor.ExternalData.GroupBy(entry => entry.Key).ToDictionary(group => group.Key, group => group.Last().Value);
        if (!entries.TryGetValue("location", out var location))
        {
            throw Refused(tensor, "it is stored as external data without a location");
        }

        var file = Resolve(tensor, location, directory);
        var fileLength = new FileInfo(file).Length;
        var offset = Number(tensor, entries, "offset") ?? 0;
        var length = Number(tensor, entries, "length") ?? fileLength - offset;
        if (offset > fileLength || length > fileLength - offset)
        {
            throw Refused(tensor, $"its external data ({location}, offset {offset}, length {length}) lies beyond the end of the {fileLength}-byte file");
        }

        if (length > OnnxModelFile.MaxModelBytes)
        {
            throw OnnxModelFile.TooLarge(length);
        }

        return (file, offset, (int)length);
    }

    private static string Resolve(TensorProto tensor, string location, string directory)
    {
        var segments = location.Split('/', '\\');
        if (location.Length == 0 || Path.IsPathRooted(location) || location.Contains(':', StringComparison.Ordinal)
            || location.Any(char.IsControl) || segments.Any(segment => segment is ".." or ""))
        {
            throw Refused(tensor, $"external data location '{location}' must be a relative path inside the model's directory");
        }

        // Each step below the directory must be a real entry: a symbolic link could lead anywhere on the host.
        var path = directory;
        foreach (var segment in segments.Where(segment => segment != "."))
        {
            path = Path.Combine(path, segment);
            var info = new FileInfo(path);
            if (info.LinkTarget is not null)
            {
                throw Refused(tensor, $"external data location '{location}' goes through a symbolic link; only files inside the model's directory are read");
            }
        }

        if (!File.Exists(path))
        {
            throw Refused(tensor, $"its external data file '{location}' does not exist beside the model");
        }

        return path;
    }

    private static long? Number(TensorProto tensor, Dictionary<string, string> entries, string key)
    {
        if (!entries.TryGetValue(key, out var text))
        {
            return null;
        }

        return long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw Refused(tensor, $"its external data {key} '{text}' is not a non-negative integer");
    }

    private static ServingException Refused(TensorProto tensor, string reason) =>
        ServingException.Invalid($"tensor '{tensor.Name}' cannot be read: {reason}");
}
