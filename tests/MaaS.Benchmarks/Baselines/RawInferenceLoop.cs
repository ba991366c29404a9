using System.Globalization;
using System.Buffers;
using System.Diagnostics;
using System.Threading.Channels;
using MaaS.Core.Inference;
using MaaS.Core.Sessions;
using MaaS.Core.Tensors;
using Microsoft.ML.OnnxRuntime;

namespace MaaS.Benchmarks.Baselines;

/// <summary>
/// What the server is compared to: ONNX Runtime called in-process on a request decoded once, in one of two ways
/// (<see cref="RawSharing"/>). <see cref="RawSharing.Plain"/> is the best a user could write with no serving layer:
/// ONE <see cref="InferenceSession"/> with default <see cref="SessionOptions"/>, shared by every caller (Run is
/// thread-safe). <see cref="RawSharing.Leased"/> copies the server's choices: its session options
/// (<see cref="SessionsOptions"/> defaults, built by OnnxModelLoader's own code) and its way of sharing instances
/// (each caller leases one session exclusively and waits in line for a free one, as SessionPool does), so it shows
/// what the serving layer costs over those choices, but not whether the choices are right.
/// What is left per call is what no server can avoid: OrtValues over the input buffers, a RunOptions, Run, and
/// disposing the outputs.
/// </summary>
internal sealed class RawInferenceLoop : IDisposable
{
    private readonly InferenceSession[] _sessions;
    private readonly Channel<InferenceSession>? _idle;
    private readonly InferRequest _request;
    private readonly MemoryHandle[] _pins;
    private readonly string[] _inputNames;
    private readonly string[] _outputNames;

    private RawInferenceLoop(InferenceSession[] sessions, InferRequest request, RawSharing sharing)
    {
        _sessions = sessions;
        _request = request;
        if (sharing == RawSharing.Leased)
        {
            _idle = Channel.CreateBounded<InferenceSession>(new BoundedChannelOptions(sessions.Length) { SingleReader = false, SingleWriter = false });
            foreach (var session in sessions)
            {
                _idle.Writer.TryWrite(session);
            }
        }

        // Pinned once for the loop's life: the OrtValues of every call point at the same decoded bytes.
        _pins = [.. request.Inputs.Select(input => input.DataType == TensorDataType.Bytes ? default : input.Data.Memory.Pin())];
        _inputNames = [.. request.Inputs.Select(input => input.Name)];
        _outputNames = [.. request.Outputs.Select(output => output.Name)];
    }

    /// <summary>
    /// Loads the model's sessions (<see cref="RawSharing.Plain"/>: one with default options;
    /// <see cref="RawSharing.Leased"/>: <paramref name="instances"/> with the server's options) and decodes the V2 body
    /// (JSON, or with <paramref name="headerLength"/> a JSON header and binary tensors) against the signature its graph
    /// declares.
    /// </summary>
    public static RawInferenceLoop Create(string modelPath, byte[] body, int? headerLength, RawSharing sharing, int instances)
    {
        var sessions = new List<InferenceSession>(instances);
        try
        {
            if (sharing == RawSharing.Plain)
            {
                using var options = new SessionOptions();
                sessions.Add(new InferenceSession(modelPath, options));
            }
            else
            {
                var settings = RuntimeSettings.From(null, new SessionsOptions { InstanceCount = instances.ToString(CultureInfo.InvariantCulture) });
                var threads = settings.ThreadsPerInstance(instances, Environment.ProcessorCount);
                for (var i = 0; i < instances; i++)
                {
                    using var options = OnnxModelLoader.CreateOptions(settings, threads, allowSpinning: instances == 1, globalThreadPool: false);
                    sessions.Add(new InferenceSession(modelPath, options));
                }
            }

            // Binary inputs are used in place from the body when aligned, as the server does; the request keeps it alive.
            var split = headerLength ?? body.Length;
            var request = InferRequestReader.Read(body.AsSpan(0, split), body.AsMemory(split), SignatureOf(sessions[0]));
            return new RawInferenceLoop([.. sessions], request, sharing);
        }
        catch
        {
            sessions.ForEach(session => session.Dispose());
            throw;
        }
    }

    /// <summary>Byte count of the tensors the body decoded to, for the log line: a check that the body is the one meant.</summary>
    public long InputBytes => _request.Inputs.Sum(input => (long)input.Data.Length);

    /// <summary><paramref name="concurrency"/> callers, each calling again as soon as its call returns, for <paramref name="duration"/>.</summary>
    public async Task<WindowResult> RunAsync(int concurrency, TimeSpan duration, CancellationToken cancellationToken)
    {
        var latencies = Enumerable.Range(0, concurrency).Select(_ => new List<long>(64 * 1024)).ToArray();
        var started = Stopwatch.GetTimestamp();
        var deadline = started + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        await Task.WhenAll(latencies.Select(list => _idle is null
            // Plain callers block in Run the whole window: a thread each, not pool threads the pool would add slowly.
            ? Task.Factory.StartNew(() => PlainCaller(deadline, list, cancellationToken), cancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default)
            : Task.Run(() => LeasingCallerAsync(deadline, list, cancellationToken), cancellationToken)));
        return WindowResult.From(concurrency, Stopwatch.GetElapsedTime(started), latencies);
    }

    // Plain: every caller runs the one session at once.
    private void PlainCaller(long deadline, List<long> latencies, CancellationToken cancellationToken)
    {
        while (Stopwatch.GetTimestamp() < deadline)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var started = Stopwatch.GetTimestamp();
            RunOnce(_sessions[0]);
            latencies.Add(Stopwatch.GetTimestamp() - started);
        }
    }

    // Leased: a caller waits for an idle session, runs it alone, and gives it back.
    private async Task LeasingCallerAsync(long deadline, List<long> latencies, CancellationToken cancellationToken)
    {
        while (Stopwatch.GetTimestamp() < deadline)
        {
            var started = Stopwatch.GetTimestamp();
            var session = await _idle!.Reader.ReadAsync(cancellationToken);
            try
            {
                RunOnce(session);
            }
            finally
            {
                _idle.Writer.TryWrite(session);
            }

            latencies.Add(Stopwatch.GetTimestamp() - started);
        }
    }

    private unsafe void RunOnce(InferenceSession session)
    {
        var values = new OrtValue[_inputNames.Length];
        try
        {
            for (var i = 0; i < values.Length; i++)
            {
                var input = _request.Inputs[i];
                values[i] = input.DataType == TensorDataType.Bytes
                    ? OnnxModel.CreateStringTensor(input)
                    : OrtValue.CreateTensorValueWithData(
                        OrtMemoryInfo.DefaultInstance, input.DataType.ToOnnx(), input.Shape, (IntPtr)_pins[i].Pointer, input.Data.Length);
            }

            // Per call, as the server does: Terminate (cancellation) is per RunOptions.
            using var runOptions = new RunOptions { LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL };
            using var outputs = session.Run(runOptions, _inputNames, values, _outputNames);
        }
        finally
        {
            foreach (var value in values)
            {
                value?.Dispose();
            }
        }
    }

    // What the graph itself accepts (no batch dim of its own: the body's shapes are checked against the graph's).
    private static ModelSignature SignatureOf(InferenceSession session) =>
        new(0, Specs(session.InputMetadata), Specs(session.OutputMetadata));

    private static List<TensorSpec> Specs(IReadOnlyDictionary<string, NodeMetadata> nodes) =>
    [
        .. nodes.Select(node => new TensorSpec(
            node.Key,
            TensorDataTypes.TryFromOnnx(node.Value.ElementDataType, out var type) ? type : throw new NotSupportedException($"'{node.Key}' is a {node.Value.ElementDataType}"),
            [.. node.Value.Dimensions.Select(dim => (long)dim)])),
    ];

    public void Dispose()
    {
        foreach (var pin in _pins)
        {
            pin.Dispose();
        }

        _request.Dispose();
        foreach (var session in _sessions)
        {
            session.Dispose();
        }
    }
}
