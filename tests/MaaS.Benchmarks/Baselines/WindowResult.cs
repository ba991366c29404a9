using System.Globalization;
using System.Runtime;

namespace MaaS.Benchmarks.Baselines;

/// <summary>One measured window: completed requests over its wall time, and latency percentiles as wrk reports them.</summary>
internal sealed record WindowResult(int Concurrency, TimeSpan Elapsed, long Requests, double P50Ms, double P99Ms)
{
    /// <summary>Summarises per-caller latencies (Stopwatch ticks).</summary>
    public static WindowResult From(int concurrency, TimeSpan elapsed, IEnumerable<List<long>> latencies)
    {
        var all = latencies.SelectMany(list => list).ToArray();
        Array.Sort(all);
        return new WindowResult(concurrency, elapsed, all.Length, Percentile(all, 0.50), Percentile(all, 0.99));
    }

    public double RequestsPerSecond => Requests / Elapsed.TotalSeconds;

    /// <summary>The machine-readable line compare.sh parses: the tool's output, one per window.</summary>
    public string Format(string target) => string.Create(
        CultureInfo.InvariantCulture,
        $"{target} concurrency={Concurrency} seconds={Elapsed.TotalSeconds:F2} requests={Requests} rps={RequestsPerSecond:F1} p50_ms={P50Ms:F3} p99_ms={P99Ms:F3} gc={(GCSettings.IsServerGC ? "server" : "workstation")}");

    private static double Percentile(long[] sorted, double fraction)
    {
        if (sorted.Length == 0)
        {
            return double.NaN;
        }

        var index = Math.Clamp((int)Math.Ceiling(fraction * sorted.Length) - 1, 0, sorted.Length - 1);
        return sorted[index] * 1000.0 / System.Diagnostics.Stopwatch.Frequency;
    }
}
