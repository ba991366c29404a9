using Google.Protobuf;
using MaaS.Core.Optimization.Onnx;

namespace MaaS.Core.Optimization;

/// <summary>
/// Reads a model.onnx into <see cref="ModelProto"/> with every external tensor loaded inline, and writes a model as
/// one self-contained file. Protobuf messages are limited to 2 GiB, so larger models are refused, not truncated.
/// Fields this server's onnx.proto does not know are kept as unknown fields and written back unchanged.
/// </summary>
internal static class OnnxModelFile
{
    /// <summary>The largest model (file plus external data) read or written: the protobuf message limit.</summary>
    public const long MaxModelBytes = int.MaxValue;

    // ONNX nests graphs in If/Loop/Scan attributes; deeper than this is hostile, not a model.
    private const int RecursionLimit = 200;

    public static ModelProto Read(string path, CancellationToken cancellationToken)
    {
        var length = new FileInfo(path).Length;
        if (length > MaxModelBytes)
        {
            throw TooLarge(length);
        }

        if (length == 0)
        {
            throw ServingException.Invalid("the model file is empty");
        }

        ModelProto model;
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16))
        {
            try
            {
                using var input = CodedInputStream.CreateWithLimits(stream, (int)MaxModelBytes, RecursionLimit);
                model = ModelProto.Parser.ParseFrom(input);
            }
            catch (InvalidProtocolBufferException ex)
            {
                throw ServingException.Invalid($"the file is not an ONNX model: {ex.Message}");
            }
        }

        if (model.Graph is null)
        {
            throw ServingException.Invalid("the file is not an ONNX model: it has no graph");
        }

        OnnxExternalData.LoadInline(model, Path.GetDirectoryName(Path.GetFullPath(path))!, length, cancellationToken);
        return model;
    }

    /// <summary>Writes <paramref name="model"/> (all tensors inline) to <paramref name="path"/>, replacing it.</summary>
    public static void Write(ModelProto model, string path)
    {
        // CalculateSize counts in int and wraps past 2 GiB: bound the tensor payloads (nearly all of a model) in long first.
        var payload = OnnxGraphWalk.Tensors(model).Sum(tensor => (long)tensor.RawData.Length + tensor.FloatData.Count * 4L
            + tensor.Int32Data.Count * 4L + tensor.Int64Data.Count * 8L + tensor.DoubleData.Count * 8L);
        var size = payload > MaxModelBytes ? -1 : model.CalculateSize();
        if (size < 0)
        {
            throw TooLarge(payload);
        }

        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
        model.WriteTo(stream);
    }

    internal static ServingException TooLarge(long bytes) => ServingException.Invalid(
        $"the model is {bytes} bytes with its external data; optimisation handles models up to {MaxModelBytes} bytes (2 GiB, the protobuf message limit)");
}
