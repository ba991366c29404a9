namespace MaaS.Server.Hosting.Metrics;

/// <summary>Triton's <c>{"count", "ns"}</c>: how many, and their total time in nanoseconds. Thread-safe.</summary>
internal sealed class DurationStat
{
    private long _count;
    private long _nanoseconds;

    public long Count => Interlocked.Read(ref _count);

    public long Nanoseconds => Interlocked.Read(ref _nanoseconds);

    public void Add(TimeSpan duration, long count = 1)
    {
        Interlocked.Add(ref _count, count);
        Interlocked.Add(ref _nanoseconds, duration.Ticks * 100);
    }
}
