using System.Collections.Concurrent;
using Serilog.Core;
using Serilog.Events;

namespace MaaS.Server.Tests.Infrastructure;

/// <summary>
/// A Serilog sink registered as a service (it shares the server's log buffer): keeps every event, completes
/// <see cref="Matched"/> with the first one that matches, and, while its gate is closed, holds the writing thread the
/// way a stalled stdout would.
/// </summary>
public sealed class CapturingLogSink(Func<LogEvent, bool> match, bool gateOpen = true) : ILogEventSink, IDisposable
{
    private readonly ManualResetEventSlim _gate = new(gateOpen);
    private readonly TaskCompletionSource<LogEvent> _matched = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _disposed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public ConcurrentQueue<LogEvent> Events { get; } = new();

    public Task<LogEvent> Matched => _matched.Task;

    /// <summary>
    /// Completes when the sink is disposed: by the server's log writer once it has written its last events, or by the
    /// test. A test server's host is disposed by its program after the factory's own disposal returns.
    /// </summary>
    public Task Disposed => _disposed.Task;

    public void OpenGate() => _gate.Set();

    public void Emit(LogEvent logEvent)
    {
        _gate.Wait();
        Events.Enqueue(logEvent);
        if (match(logEvent))
        {
            _matched.TrySetResult(logEvent);
        }
    }

    public void Dispose()
    {
        _disposed.TrySetResult();
        _gate.Dispose();
    }

    /// <summary>The request log line of the request with this X-Request-Id.</summary>
    public static bool IsRequestLine(LogEvent logEvent, string requestId) =>
        logEvent.Properties.TryGetValue("SourceContext", out var source) && source is ScalarValue { Value: "MaaS.Server.Hosting.RequestLogMiddleware" }
        && logEvent.Properties.TryGetValue("RequestId", out var id) && id is ScalarValue { Value: string value } && value == requestId;
}
