using Serilog.Sinks.Async;

namespace MaaS.Server.Hosting;

/// <summary>The log buffer in front of the console, for <c>/metrics</c>: events waiting and events dropped because it was full.</summary>
internal sealed class LogBufferMonitor : IAsyncLogEventSinkMonitor
{
    private volatile IAsyncLogEventSinkInspector? _inspector;

    /// <summary>Events dropped since start because the buffer was full.</summary>
    public long Dropped => _inspector?.DroppedMessagesCount ?? 0;

    /// <summary>Events waiting to be written now.</summary>
    public int Queued => _inspector?.Count ?? 0;

    // The inspector stays readable after the sink stops, so the counts survive until the process ends.
    public void StartMonitoring(IAsyncLogEventSinkInspector inspector) => _inspector = inspector;

    public void StopMonitoring(IAsyncLogEventSinkInspector inspector)
    {
    }
}
