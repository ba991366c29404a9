using System.Runtime.InteropServices;
using Google.Protobuf;
using Inference;
using MaaS.Core;
using MaaS.Core.Registry;
using MaaS.Core.Repository;
using MaaS.Server.Endpoints.V2;
using MaaS.Server.Hosting;
using Microsoft.Extensions.Options;

namespace MaaS.Server.Endpoints.Grpc;

/// <summary>
/// RepositoryModelLoad and RepositoryModelUnload, through the HTTP repository routes' <see cref="ModelManager"/> calls
/// and with their parameters: <c>config</c> (JSON text, as a string or bytes) and <c>file:&lt;version&gt;/model.onnx</c>
/// (the file's bytes) write the model from the request before it loads.
/// </summary>
internal sealed class GrpcRepository(ModelManager manager, IOptions<LimitsOptions> limits)
{
    public async Task LoadAsync(RepositoryModelLoadRequest request, CancellationToken cancellationToken)
    {
        byte[]? config = null;
        var files = new Dictionary<long, StagedFile>();
        try
        {
            foreach (var (key, value) in request.Parameters)
            {
                if (key == "config")
                {
                    config = value.ParameterChoiceCase switch
                    {
                        ModelRepositoryParameter.ParameterChoiceOneofCase.StringParam => System.Text.Encoding.UTF8.GetBytes(value.StringParam),
                        ModelRepositoryParameter.ParameterChoiceOneofCase.BytesParam => value.BytesParam.ToByteArray(),
                        _ => throw ServingException.Invalid("load parameter 'config' must be a string"),
                    };
                }
                else if (key.StartsWith("file:", StringComparison.Ordinal))
                {
                    var version = LoadRequestReader.ParseFileName(key);
                    if (value.ParameterChoiceCase != ModelRepositoryParameter.ParameterChoiceOneofCase.BytesParam)
                    {
                        throw ServingException.Invalid($"load parameter '{key}' must be bytes (the model file)");
                    }

                    files[version] = await StageAsync(value.BytesParam, cancellationToken);
                }
                else
                {
                    throw ServingException.Invalid($"unsupported load parameter '{key}'; expected \"config\" and \"file:<version>/model.onnx\"");
                }
            }

            await manager.LoadAsync(request.ModelName, config, files, cancellationToken);
        }
        finally
        {
            foreach (var file in files.Values)
            {
                file.Dispose();
            }
        }
    }

    public Task UnloadAsync(RepositoryModelUnloadRequest request, CancellationToken cancellationToken) =>
        manager.UnloadAsync(request.ModelName, cancellationToken);

    private async Task<StagedFile> StageAsync(ByteString bytes, CancellationToken cancellationToken)
    {
        // Read in place: the message keeps its bytes alive until the call ends.
        using var content = MemoryMarshal.TryGetArray(bytes.Memory, out var segment)
            ? new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false)
            : new MemoryStream(bytes.ToByteArray(), writable: false);
        return await manager.StageUploadAsync(content, limits.Value.MaxModelBytes, cancellationToken);
    }
}
