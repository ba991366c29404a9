using System.Globalization;
using System.Runtime.ExceptionServices;
using System.Threading.Channels;
using Grpc.Core;
using Inference;
using MaaS.Server.Hosting;

namespace MaaS.Server.Endpoints.Grpc;

/// <summary>
/// One ModelStreamInfer call, served as Triton serves a stream to a non-decoupled model: each request starts as soon as
/// it is read, while earlier ones still run, and the answers are written in the order the requests came (a fast request
/// waits for the answers of those before it). At most <c>limit</c> requests are outstanding (running, or answered and
/// waiting their turn); with that many, no further request is read, which holds the client back through HTTP/2 flow
/// control instead of queueing. Answers are written one at a time (a stream writer takes one write at a time). The
/// first failure of the stream itself (the client cancels, a write fails, a bug) cancels the requests in flight and ends
/// the call once every one of them has ended; a request's own error is its answer and the stream goes on.
/// </summary>
internal sealed class GrpcInferStream : IDisposable
{
    private readonly CancellationTokenSource _stop;
    private readonly SemaphoreSlim _window;
    private readonly Channel<Task<ModelStreamInferResponse>> _answers;
    private ExceptionDispatchInfo? _failure;

    private GrpcInferStream(int limit, CancellationToken callCancelled)
    {
        _stop = CancellationTokenSource.CreateLinkedTokenSource(callCancelled);
        _window = new SemaphoreSlim(limit, limit);
        _answers = Channel.CreateBounded<Task<ModelStreamInferResponse>>(
            new BoundedChannelOptions(limit) { SingleReader = true, SingleWriter = true });
    }

    /// <summary>Serves the call; <paramref name="answer"/> turns one request into its answer and fails only for the stream's own reasons.</summary>
    public static async Task RunAsync(
        IAsyncStreamReader<ModelInferRequest> requests,
        IServerStreamWriter<ModelStreamInferResponse> responses,
        ServerCallContext context,
        int limit,
        Func<ModelInferRequest, CancellationToken, Task<ModelStreamInferResponse>> answer)
    {
        using var stream = new GrpcInferStream(limit, context.CancellationToken);
        var writing = stream.WriteInOrderAsync(responses, context.GetHttpContext());
        await stream.ReadAsync(requests, answer);
        await writing;
        stream._failure?.Throw();
    }

    public void Dispose()
    {
        _stop.Dispose();
        _window.Dispose();
    }

    private async Task ReadAsync(
        IAsyncStreamReader<ModelInferRequest> requests, Func<ModelInferRequest, CancellationToken, Task<ModelStreamInferResponse>> answer)
    {
        try
        {
            while (await NextAsync(requests))
            {
                var message = requests.Current;
                var cancellationToken = _stop.Token;
                // Each request runs as a work item of its own, as each HTTP request does: ONNX Runtime's Run is synchronous,
                // and run on this loop it would keep the next request unread until the model answers.
                var running = Task.Run(() => answer(message, cancellationToken), CancellationToken.None);
                if (!_answers.Writer.TryWrite(running))
                {
                    throw new InvalidOperationException("the answer queue is full although the window had room");
                }
            }
        }
#pragma warning disable CA1031 // the stream's boundary: the failure is kept, stops the rest, and is thrown once all has ended
        catch (Exception ex)
#pragma warning restore CA1031
        {
            await FailAsync(ex);
        }
        finally
        {
            _answers.Writer.Complete();
        }
    }

    /// <summary>Takes a place in the window, then reads the next request; false at the end of the stream.</summary>
    private async Task<bool> NextAsync(IAsyncStreamReader<ModelInferRequest> requests)
    {
        await _window.WaitAsync(_stop.Token);
        if (await requests.MoveNext(_stop.Token))
        {
            return true;
        }

        _window.Release();
        return false;
    }

    private async Task WriteInOrderAsync(IServerStreamWriter<ModelStreamInferResponse> responses, HttpContext call)
    {
        await foreach (var answer in _answers.Reader.ReadAllAsync(CancellationToken.None))
        {
            try
            {
                if (Volatile.Read(ref _failure) is not null)
                {
                    // The stream has failed: the rest are waited for (they were cancelled), never written.
                    await ((Task)answer).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                    continue;
                }

                var response = await answer;
                await responses.WriteAsync(response, _stop.Token);
                RecordServed(call, response);
            }
#pragma warning disable CA1031 // the stream's boundary, as in ReadAsync
            catch (Exception ex)
#pragma warning restore CA1031
            {
                await FailAsync(ex);
            }
            finally
            {
                _window.Release();
            }
        }
    }

    /// <summary>Keeps the first failure and cancels everything else.</summary>
    private async Task FailAsync(Exception exception)
    {
        if (Interlocked.CompareExchange(ref _failure, ExceptionDispatchInfo.Capture(exception), null) is null)
        {
            await _stop.CancelAsync();
        }
    }

    /// <summary>The request log's model and version for the call: those of the last answer written (only this loop touches the call).</summary>
    private static void RecordServed(HttpContext call, ModelStreamInferResponse response)
    {
        if (response.InferResponse is { ModelName.Length: > 0 } served
            && long.TryParse(served.ModelVersion, NumberStyles.None, CultureInfo.InvariantCulture, out var version))
        {
            call.SetServedModel(served.ModelName);
            call.SetServedVersion(version);
        }
    }
}
