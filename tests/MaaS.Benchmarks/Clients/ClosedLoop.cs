using System.Diagnostics;
using MaaS.Benchmarks.Baselines;

namespace MaaS.Benchmarks.Clients;

/// <summary>
/// A closed-loop load generator: N callers, each sending its next request as soon as the answer to the last one is in,
/// for a window. Latencies are of good answers only; failed calls are counted, and the first one's reason is logged.
/// </summary>
internal sealed class ClosedLoop(IInferCaller caller, TextWriter log)
{
    public async Task<WindowResult> RunAsync(int concurrency, TimeSpan duration, CancellationToken cancellationToken)
    {
        var latencies = Enumerable.Range(0, concurrency).Select(_ => new List<long>(64 * 1024)).ToArray();
        var started = Stopwatch.GetTimestamp();
        var deadline = started + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var failures = await Task.WhenAll(latencies.Select(list => Task.Run(() => CallerAsync(deadline, list, cancellationToken), cancellationToken)));
        var elapsed = Stopwatch.GetElapsedTime(started);
        var errors = failures.Sum(failure => failure.Count);
        if (failures.FirstOrDefault(failure => failure.First is not null).First is { } first)
        {
            await log.WriteLineAsync($"{errors} calls failed at concurrency {concurrency}, for instance: {first}".AsMemory(), cancellationToken);
        }

        return WindowResult.From(concurrency, elapsed, latencies, errors);
    }

    private async Task<(long Count, string? First)> CallerAsync(long deadline, List<long> latencies, CancellationToken cancellationToken)
    {
        long count = 0;
        string? first = null;
        while (Stopwatch.GetTimestamp() < deadline)
        {
            var started = Stopwatch.GetTimestamp();
            if (await caller.CallAsync(cancellationToken) is { } error)
            {
                count++;
                first ??= error;
            }
            else
            {
                latencies.Add(Stopwatch.GetTimestamp() - started);
            }
        }

        return (count, first);
    }
}
