using System.Globalization;
using System.Runtime;

namespace MaaS.Benchmarks.Baselines;

/// <summary>
/// One measured window: completed requests over its wall time, latency percentiles as wrk reports them, and the calls
/// that failed (a load client's; they are not in the requests or the percentiles).
/// </summary>
internal sealed record WindowResult(int Concurrency, TimeSpan Elapsed, long Requests, double P50Ms, double P99Ms, long Errors = 0)
{
    /// <summary>Summarises per-caller latencies (Stopwatch ticks) of the calls that succeeded.</summary>
    public static WindowResult From(int concurrency, TimeSpan elapsed, IEnumerable<List<long>> latencies, long errors = 0)
    {
        var all = latencies.SelectMany(list => list).ToArray();
        Array.Sort(all);
        return new WindowResult(concurrency, elapsed, all.Length, Percentile(all, 0.50), Percentile(all, 0.99), errors);
    }

    public double RequestsPerSecond => Requests / Elapsed.TotalSeconds;

    /// <summary>The machine-readable line compare.sh and grpc-vs-http.sh parse: the tool's output, one per window.</summary>
    public string Format(string target) => string.Create(
        CultureInfo.InvariantCulture,
        $"{target} concurrency={Concurrency} seconds={Elapsed.TotalSeconds:F2} requests={Requests} rps={RequestsPerSecond:F1} p50_ms={P50Ms:F3} p99_ms={P99Ms:F3} errors={Errors} gc={(GCSettings.IsServerGC ? "server" : "workstation")}");

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
