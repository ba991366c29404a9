namespace MaaS.Server.Hosting.Metrics;

/// <summary>A Prometheus histogram of durations in seconds, with fixed buckets from 100 µs to 10 s. Thread-safe.</summary>
internal sealed class LatencyHistogram
{
    public static readonly double[] Bounds = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    private readonly long[] _buckets = new long[Bounds.Length];
    private long _count;
    private long _sumTicks;

    public long Count => Interlocked.Read(ref _count);

    public double SumSeconds => TimeSpan.FromTicks(Interlocked.Read(ref _sumTicks)).TotalSeconds;

    /// <summary>Cumulative count at bucket <paramref name="index"/> (observations ≤ its bound).</summary>
    public long CumulativeCount(int index)
    {
        long total = 0;
        for (var i = 0; i <= index; i++)
        {
            total += Interlocked.Read(ref _buckets[i]);
        }

        return total;
    }

    public void Observe(TimeSpan duration)
    {
        var index = BucketOf(duration.TotalSeconds);
        if (index >= 0)
        {
            Interlocked.Increment(ref _buckets[index]);
        }

        Interlocked.Increment(ref _count);
        Interlocked.Add(ref _sumTicks, duration.Ticks);
    }

    /// <summary>The first bucket whose bound is at least <paramref name="seconds"/>, -1 past the last (a loop: a predicate capturing the duration would allocate on every observation).</summary>
    private static int BucketOf(double seconds)
    {
        var bounds = Bounds;
        for (var i = 0; i < bounds.Length; i++)
        {
            if (seconds <= bounds[i])
            {
                return i;
            }
        }

        return -1;
    }
}
