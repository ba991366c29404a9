namespace MaaS.Server.Hosting;

/// <summary>The log buffer in front of the console, for <c>/metrics</c>: events waiting and events dropped because it was full.</summary>
internal sealed class LogBufferMonitor
{
    private volatile BackgroundLogWriter? _writer;

    /// <summary>Events dropped since start because the buffer was full.</summary>
    public long Dropped => _writer?.Dropped ?? 0;

    /// <summary>Events waiting to be written now.</summary>
    public int Queued => _writer?.Queued ?? 0;

    // The writer stays readable after it stops, so the counts survive until the process ends.
    public void Attach(BackgroundLogWriter writer) => _writer = writer;
}
