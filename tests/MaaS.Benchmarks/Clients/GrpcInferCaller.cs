using System.Net;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Inference;

namespace MaaS.Benchmarks.Clients;

/// <summary>
/// <c>inference.GRPCInferenceService/ModelInfer</c> with the tensors in <c>raw_input_contents</c>, built once from the
/// same body the HTTP client sends, through <c>channels</c> <see cref="GrpcChannel"/>s (default 1): each one HTTP/2
/// connection (h2c), the concurrent calls taking them in turn as streams. A good answer is an OK status with every
/// requested output and its raw contents.
/// </summary>
internal sealed class GrpcInferCaller : IInferCaller
{
    private readonly GrpcChannel[] _channels;
    private readonly GRPCInferenceService.GRPCInferenceServiceClient[] _clients;
    private readonly ModelInferRequest _request;
    private int _next;

    public GrpcInferCaller(Uri server, string model, BinaryInferBody body, int channels = 1)
    {
        // One connection per channel: the server's default of 100 streams per connection is above every concurrency measured.
        _channels = [.. Enumerable.Range(0, channels).Select(_ => GrpcChannel.ForAddress(server, new GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler { EnableMultipleHttp2Connections = false, AutomaticDecompression = DecompressionMethods.None },
            DisposeHttpClient = true,
        }))];
        _clients = [.. _channels.Select(channel => new GRPCInferenceService.GRPCInferenceServiceClient(channel))];
        _request = new ModelInferRequest { ModelName = model };
        foreach (var input in body.Inputs)
        {
            var tensor = new ModelInferRequest.Types.InferInputTensor { Name = input.Name, Datatype = input.DataType };
            tensor.Shape.AddRange(input.Shape);
            _request.Inputs.Add(tensor);
            _request.RawInputContents.Add(ByteString.CopyFrom(input.Data.Span));
        }

        foreach (var output in body.Outputs)
        {
            _request.Outputs.Add(new ModelInferRequest.Types.InferRequestedOutputTensor { Name = output });
        }
    }

    public async Task<string?> CallAsync(CancellationToken cancellationToken)
    {
        try
        {
            // The request is only read, never changed, so every caller serialises the same one.
            var client = _clients[(uint)Interlocked.Increment(ref _next) % _clients.Length];
            var response = await client.ModelInferAsync(
                _request, deadline: TimeProvider.System.GetUtcNow().UtcDateTime + IInferCaller.CallTimeout, cancellationToken: cancellationToken);
            return response.Outputs.Count != _request.Outputs.Count
                ? $"{response.Outputs.Count} outputs, not the {_request.Outputs.Count} requested"
                : response.RawOutputContents.Count != response.Outputs.Count
                ? $"{response.RawOutputContents.Count} raw_output_contents for {response.Outputs.Count} outputs"
                : null;
        }
        catch (RpcException e) when (!cancellationToken.IsCancellationRequested)
        {
            return $"{e.StatusCode}: {e.Status.Detail}";
        }
    }

    public void Dispose()
    {
        foreach (var channel in _channels)
        {
            channel.Dispose();
        }
    }
}
