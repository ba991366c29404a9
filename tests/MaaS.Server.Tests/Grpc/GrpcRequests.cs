using System.Text.Json;
using Google.Protobuf;
using Inference;
using MaaS.Server.Tests.Infrastructure;

namespace MaaS.Server.Tests.Grpc;

/// <summary>Reference cases as gRPC requests: raw contents (as tritonclient.grpc sends them) or typed contents.</summary>
public static class GrpcRequests
{
    public static ModelInferRequest Raw(ReferenceCase reference, string model, string version = "")
    {
        var request = Header(reference, model, version);
        foreach (var input in reference.Inputs)
        {
            request.RawInputContents.Add(ByteString.CopyFrom(TensorValues.ToBinary(input)));
        }

        return request;
    }

    public static ModelInferRequest Typed(ReferenceCase reference, string model, string version = "")
    {
        var request = Header(reference, model, version);
        for (var i = 0; i < reference.Inputs.Count; i++)
        {
            request.Inputs[i].Contents = Contents(reference.Inputs[i]);
        }

        return request;
    }

    public static ModelInferRequest.Types.InferInputTensor Input(string name, string datatype, long[] shape)
    {
        var input = new ModelInferRequest.Types.InferInputTensor { Name = name, Datatype = datatype };
        input.Shape.Add(shape);
        return input;
    }

    private static ModelInferRequest Header(ReferenceCase reference, string model, string version)
    {
        var request = new ModelInferRequest { ModelName = model, ModelVersion = version, Id = "grpc-test" };
        foreach (var input in reference.Inputs)
        {
            request.Inputs.Add(Input(input.Name, input.Datatype, input.Shape));
        }

        foreach (var output in reference.Outputs)
        {
            request.Outputs.Add(new ModelInferRequest.Types.InferRequestedOutputTensor { Name = output.Name });
        }

        return request;
    }

    private static InferTensorContents Contents(ReferenceTensor tensor)
    {
        var contents = new InferTensorContents();
        foreach (var value in Flatten(tensor.Data))
        {
            switch (tensor.Datatype)
            {
                case "BOOL": contents.BoolContents.Add(value.GetBoolean()); break;
                case "INT8" or "INT16" or "INT32": contents.IntContents.Add(value.GetInt32()); break;
                case "INT64": contents.Int64Contents.Add(value.GetInt64()); break;
                case "UINT8" or "UINT16" or "UINT32": contents.UintContents.Add(value.GetUInt32()); break;
                case "UINT64": contents.Uint64Contents.Add(value.GetUInt64()); break;
                case "FP32": contents.Fp32Contents.Add(value.GetSingle()); break;
                case "FP64": contents.Fp64Contents.Add(value.GetDouble()); break;
                case "BYTES": contents.BytesContents.Add(ByteString.CopyFromUtf8(value.GetString()!)); break;
                default: throw new ArgumentException($"{tensor.Datatype} has no typed contents");
            }
        }

        return contents;
    }

    private static IEnumerable<JsonElement> Flatten(JsonElement data) =>
        data.ValueKind == JsonValueKind.Array ? data.EnumerateArray().SelectMany(Flatten) : [data];
}
