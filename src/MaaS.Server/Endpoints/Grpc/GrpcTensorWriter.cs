using System.Globalization;
using Google.Protobuf;
using Inference;
using MaaS.Core.Inference;
using MaaS.Core.Tensors;

namespace MaaS.Server.Endpoints.Grpc;

/// <summary>
/// An <see cref="InferResult"/> as a <see cref="ModelInferResponse"/>. Every output goes in raw_output_contents, as
/// Triton's gRPC endpoint answers (tritonclient reads raw contents): little-endian bytes, BYTES elements 4-byte
/// length-prefixed. Each output is copied once, from ONNX Runtime's tensor into the message.
/// </summary>
internal static class GrpcTensorWriter
{
    public static ModelInferResponse Write(InferResult result, string? id, string modelName, long modelVersion)
    {
        var response = new ModelInferResponse
        {
            ModelName = modelName,
            ModelVersion = modelVersion.ToString(CultureInfo.InvariantCulture),
            Id = id ?? "",
        };
        foreach (var output in result.Outputs)
        {
            var tensor = new ModelInferResponse.Types.InferOutputTensor { Name = output.Name, Datatype = output.DataType.ToProtocolName() };
            tensor.Shape.Add(output.Shape);
            response.Outputs.Add(tensor);
            response.RawOutputContents.Add(Raw(output));
        }

        return response;
    }

    private static ByteString Raw(InferOutput output)
    {
        if (output.DataType != TensorDataType.Bytes)
        {
            return ByteString.CopyFrom(output.FixedData);
        }

        // The message owns the array from here on and nothing else touches it, so wrapping it without a copy is safe.
        var bytes = new byte[output.BinarySize];
        var writer = new FixedBufferWriter(bytes);
        InferResponseWriter.WriteBinary(writer, output);
        return UnsafeByteOperations.UnsafeWrap(bytes);
    }

    /// <summary>Writes into an array of exactly the size needed.</summary>
    private sealed class FixedBufferWriter(byte[] array) : System.Buffers.IBufferWriter<byte>
    {
        private int _written;

        public void Advance(int count) => _written += count;

        public Memory<byte> GetMemory(int sizeHint = 0) => array.AsMemory(_written);

        public Span<byte> GetSpan(int sizeHint = 0) => array.AsSpan(_written);
    }
}
