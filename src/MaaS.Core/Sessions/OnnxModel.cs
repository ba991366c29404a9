using System.Buffers;
using System.Diagnostics;
using System.Runtime.ExceptionServices;
using MaaS.Core.Batching;
using MaaS.Core.Inference;
using MaaS.Core.Tensors;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace MaaS.Core.Sessions;

/// <summary>
/// A loaded model version: its pool of ONNX Runtime sessions (one per instance) and the signature it serves. Each
/// request leases an instance for its Run; the sessions live until the version is unloaded.
/// </summary>
public sealed partial class OnnxModel : IDisposable
{
    private readonly SessionPool _pool;
    private DynamicBatcher? _batcher;

    internal OnnxModel(SessionPool pool, ModelSignature signature, string executionProvider)
    {
        _pool = pool;
        Signature = signature;
        ExecutionProvider = executionProvider;
    }

    internal OnnxModel(InferenceSession session, ModelSignature signature, string executionProvider)
        : this(new SessionPool([session], TimeProvider.System, TimeSpan.FromSeconds(new SessionsOptions().SessionWaitTimeoutSeconds)), signature, executionProvider)
    {
    }

    public ModelSignature Signature { get; }

    /// <summary>The provider the sessions actually run on ("cpu", "cuda").</summary>
    public string ExecutionProvider { get; }

    /// <summary>Instances (sessions) of this version.</summary>
    public int InstanceCount => _pool.Count;

    /// <summary>Whether a request that finds every instance idle runs on a session of its own that uses every CPU.</summary>
    public bool HasLoneRequestSession => _pool.LoneSession is not null;

    /// <summary>Whether the instances' pool threads spin while waiting for work (as created by the loader).</summary>
    internal bool Spins { get; init; }

    /// <summary>Whether the lone-request session's pool threads spin.</summary>
    internal bool LoneSessionSpins { get; private set; }

    /// <summary>
    /// Takes the session of <paramref name="single"/> (a one-session candidate of the instance choice, warmed up, not
    /// serving) as this version's lone-request session, and disposes what is left of <paramref name="single"/>.
    /// </summary>
    internal void KeepForLoneRequests(OnnxModel single)
    {
        _pool.AttachLoneSession(single._pool.ReleaseOnlySession());
        LoneSessionSpins = single.Spins;
        single.Dispose();
    }

    /// <summary>Requests waiting in the batch queue, or for an instance, not yet executing.</summary>
    public int QueuedRequests => _batcher?.Queue.Count ?? _pool.Waiting;

    /// <summary>The dynamic batching in effect; null when requests run one by one.</summary>
    public BatchingPolicy? Batching => _batcher?.Queue.Policy;

    /// <summary>
    /// Runs a validated request: through the batch queue when the model batches dynamically, else on the next free
    /// instance, waiting in line when all are busy (for at most MaaS:Sessions:SessionWaitTimeoutSeconds, or the request's
    /// shorter <c>timeout</c>, then a 503). Cancellation ends the wait; a run under way stops only when no request that
    /// shares it still wants it.
    /// </summary>
    public async Task<InferResult> RunAsync(InferRequest request, CancellationToken cancellationToken)
    {
        RefuseEmptyInputs(request);
        if (_batcher is { } batcher)
        {
            // Awaited whatever the token does: a worker may be reading the request's buffers. A request cancelled while
            // it waits completes at once.
            return await batcher.Queue.Enqueue(request, cancellationToken).Completion;
        }

        var queued = Stopwatch.GetTimestamp();
        using var lease = await _pool.LeaseAsync(request.TimeoutMicroseconds, cancellationToken);
        var queue = Stopwatch.GetElapsedTime(queued);
        var result = RunOn(lease.Session, request, cancellationToken);
        result.Timings = result.Timings with { Queue = queue };
        return result;
    }

    /// <summary>How long loading took (sessions, signature, warmup).</summary>
    public TimeSpan LoadDuration { get; internal set; }

    /// <summary>How long warmup took when the version loaded.</summary>
    public TimeSpan WarmupDuration { get; internal set; }

    /// <summary>What loading the version cost in memory (measured, at least the file size), for the loaded-model budget.</summary>
    public long FootprintBytes { get; internal set; }

    /// <summary>How the instance count was reached (configured, or timed at load); set by the loader.</summary>
    public InstanceChoice? Choice { get; internal set; }

    /// <summary>
    /// Runs <paramref name="request"/> on every instance at once, each on its own thread, for at least
    /// <paramref name="minRunsPerInstance"/> runs each and until <paramref name="window"/> has passed; returns the runs
    /// completed per second over them all. Only before the model serves (the instance choice at load).
    /// </summary>
    internal double MeasureThroughput(InferRequest request, TimeSpan window, int minRunsPerInstance)
    {
        var sessions = _pool.Sessions;
        var runs = new int[sessions.Count];
        var started = Stopwatch.GetTimestamp();
        var deadline = started + (long)(window.TotalSeconds * Stopwatch.Frequency);
        void Loop(int index)
        {
            do
            {
                using var result = RunOn(sessions[index], request, CancellationToken.None);
                runs[index]++;
            }
            while (runs[index] < minRunsPerInstance || Stopwatch.GetTimestamp() < deadline);
        }

        // Dedicated threads, not the thread pool: CPU-bound loops that must all run at once, whatever else is queued.
        // A failure on one is carried back to the caller (an exception escaping a thread would end the process).
        var failures = new ExceptionDispatchInfo?[sessions.Count];
        var threads = Enumerable.Range(1, sessions.Count - 1).Select(index => new Thread(() =>
        {
            try
            {
                Loop(index);
            }
#pragma warning disable CA1031 // not swallowed: rethrown on the calling thread below
            catch (Exception ex)
#pragma warning restore CA1031
            {
                failures[index] = ExceptionDispatchInfo.Capture(ex);
            }
        }) { IsBackground = true }).ToList();
        threads.ForEach(thread => thread.Start());
        try
        {
            Loop(0);
        }
        finally
        {
            threads.ForEach(thread => thread.Join());
        }

        failures.FirstOrDefault(failure => failure is not null)?.Throw();
        return runs.Sum() / Stopwatch.GetElapsedTime(started).TotalSeconds;
    }

    /// <summary>Runs a request once on every instance, before the model serves (warmup): nobody else holds a session yet.</summary>
    internal void RunOnEveryInstance(InferRequest request)
    {
        foreach (var session in _pool.Sessions)
        {
            using var result = RunOn(session, request, CancellationToken.None);
        }
    }

    private InferResult RunOn(InferenceSession session, InferRequest request, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var (values, prepared, ran) = Execute(session, request.Inputs, request.Outputs, cancellationToken);
        var result = Wrap(values, request.Outputs);
        result.Timings = new RunTimings(
            TimeSpan.Zero, Stopwatch.GetElapsedTime(started, prepared), Stopwatch.GetElapsedTime(prepared, ran), Stopwatch.GetElapsedTime(ran));
        result.ExecutedBatchSize = Signature.RowsOf(request);
        return result;
    }

    /// <summary>Runs <paramref name="inputs"/> over their own buffers (no copy); returns the outputs and when the inputs were ready and the run ended.</summary>
    internal static (IDisposableReadOnlyCollection<OrtValue> Values, long Prepared, long Ran) Execute(
        InferenceSession session, List<InferInput> inputs, List<RequestedOutput> outputs, CancellationToken cancellationToken)
    {
        var count = inputs.Count;
        var names = new string[count];
        var values = new OrtValue[count];
        var pins = new MemoryHandle[count];
        try
        {
            for (var i = 0; i < count; i++)
            {
                var input = inputs[i];
                names[i] = input.Name;
                values[i] = CreateValue(input, ref pins[i]);
            }

            var outputNames = new string[outputs.Count];
            for (var i = 0; i < outputNames.Length; i++)
            {
                outputNames[i] = outputs[i].Name;
            }

            var prepared = Stopwatch.GetTimestamp();
            var results = RunSession(session, names, values, outputNames, cancellationToken);
            return (results, prepared, Stopwatch.GetTimestamp());
        }
        finally
        {
            foreach (var value in values)
            {
                value?.Dispose();
            }

            foreach (var pin in pins)
            {
                pin.Dispose();
            }
        }
    }

    private static IDisposableReadOnlyCollection<OrtValue> RunSession(
        InferenceSession session, string[] names, OrtValue[] values, string[] outputNames, CancellationToken cancellationToken)
    {
        // One RunOptions per request: Terminate stops only the runs that share it.
        // ORT would also log each failed run to stderr; the failure reaches the client or our log, once.
        using var runOptions = new RunOptions { LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL };
        using var registration = cancellationToken.UnsafeRegister(static state => ((RunOptions)state!).Terminate = true, runOptions);
        try
        {
            return session.Run(runOptions, names, values, outputNames);
        }
        catch (OnnxRuntimeException) when (cancellationToken.IsCancellationRequested)
        {
            throw new OperationCanceledException(cancellationToken);
        }
        catch (OnnxRuntimeException ex) when (IsRejectedInput(ex))
        {
            // ONNX Runtime checks what our signature cannot express (a dim fixed inside the graph, an index out of a
            // table's range, two inputs whose variable dims must agree): the request is what is wrong, and ORT's
            // message says how.
            throw new ServingException(FailureKind.InvalidInput, $"the model rejected the input: {ex.Message}", ex);
        }
    }

    // InvalidArgument: the inputs failed ORT's checks. Fail from a node: a kernel refused the values it was given
    // (e.g. "Attempting to broadcast an axis by a dimension other than 1" when two sequence inputs differ in length).
    private static bool IsRejectedInput(OnnxRuntimeException ex) =>
        ex.Message.StartsWith("[ErrorCode:InvalidArgument]", StringComparison.Ordinal)
        || ex.Message.StartsWith("[ErrorCode:Fail] Non-zero status code returned while running", StringComparison.Ordinal);

    // Some ONNX Runtime kernels abort the whole process on an empty tensor (an RNN over a sequence of length 0 calls
    // std::terminate), so no request reaches Run with one, whichever route decoded it.
    private static void RefuseEmptyInputs(InferRequest request)
    {
        foreach (var input in request.Inputs)
        {
            if (TensorShape.ElementCount(input.Shape) == 0)
            {
                throw ServingException.Invalid(
                    $"input '{input.Name}' has shape {TensorShape.Format(input.Shape)}, which holds no elements; every dimension must be 1 or more");
            }
        }
    }

    private static unsafe OrtValue CreateValue(InferInput input, ref MemoryHandle pin)
    {
        if (input.DataType == TensorDataType.Bytes)
        {
            return CreateStringTensor(input);
        }

        // The pooled buffer is pinned for the OrtValue's lifetime: ONNX Runtime reads the request's bytes in place.
        pin = input.Data.Memory.Pin();
        return OrtValue.CreateTensorValueWithData(
            OrtMemoryInfo.DefaultInstance, input.DataType.ToOnnx(), input.Shape, (IntPtr)pin.Pointer, input.Data.Length);
    }

    /// <summary>A BYTES input as ONNX Runtime's string tensor (strings cannot be used in place).</summary>
    internal static OrtValue CreateStringTensor(InferInput input)
    {
        var value = OrtValue.CreateTensorWithEmptyStrings(OrtAllocator.DefaultInstance, input.Shape);
        ReadOnlySpan<byte> serialized = input.Data.Span;
        for (var i = 0; !serialized.IsEmpty; i++)
        {
            value.StringTensorSetElementAt(BytesElements.ReadNext(ref serialized), i);
        }

        return value;
    }

    private InferResult Wrap(IDisposableReadOnlyCollection<OrtValue> results, List<RequestedOutput> requested)
    {
        var outputs = new List<InferOutput>(requested.Count);
        try
        {
            for (var i = 0; i < requested.Count; i++)
            {
                var value = results[i];
                var info = value.GetTensorTypeAndShape();
                outputs.Add(CreateOutput(requested[i], value, info.ElementDataType, info.Shape, 0));
            }

            return new InferResult(results, outputs);
        }
        catch
        {
            DisposeSerialized(outputs);
            results.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The output a client asked for, over <paramref name="shape"/>'s elements of <paramref name="value"/> from
    /// <paramref name="elementOffset"/> on (a batched request's rows); a classification is computed here.
    /// </summary>
    private InferOutput CreateOutput(RequestedOutput requested, OrtValue value, TensorElementType elementType, long[] shape, long elementOffset)
    {
        if (!TensorDataTypes.TryFromOnnx(elementType, out var dataType))
        {
            throw new NotSupportedException($"output '{requested.Name}' has element type {elementType}, which the protocol cannot carry");
        }

        if (requested.ClassCount == 0)
        {
            return new InferOutput(requested.Name, dataType, shape, requested.Binary, value, null, elementOffset);
        }

        Signature.TryGetOutput(requested.Name, out var spec);
        var size = dataType.ElementSize();
        var data = value.GetTensorDataAsSpan<byte>().Slice((int)(elementOffset * size), (int)(TensorShape.ElementCount(shape) * size));
        var (serialized, classShape) = Classifier.Classify(dataType, data, shape, Signature.MaxBatchSize > 0, requested.ClassCount, spec?.Labels);
        return new InferOutput(requested.Name, TensorDataType.Bytes, classShape, requested.Binary, null, serialized);
    }

    private static void DisposeSerialized(List<InferOutput> outputs)
    {
        foreach (var output in outputs)
        {
            output.Serialized?.Dispose();
        }
    }

    public void Dispose()
    {
        // Every queued request holds a lease on the version, so the queue is empty by now: the workers just stop.
        _batcher?.Complete();
        _pool.Dispose();
    }
}
