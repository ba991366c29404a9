using System.Diagnostics;
using System.Globalization;
using MaaS.Core.Optimization;
using MaaS.Core.Repository;

namespace MaaS.Benchmarks.Optimization;

/// <summary>
/// <c>onnx-read FILE [--rounds 5]</c>: the two ways the server reads an ONNX file, on the same file in alternating
/// rounds: the streaming check every upload goes through (<see cref="OnnxFileInspector"/>: fields walked, tensor
/// payloads skipped) and the whole-model read the optimisation methods need (<see cref="OnnxModelFile"/>: Google.Protobuf
/// classes, every byte in memory). Prints the median time and the bytes allocated per read.
/// </summary>
internal static class OnnxReadComparison
{
    public static int Run(string[] args, TextWriter output)
    {
        var file = args[0];
        var rounds = args.Length > 2 && args[1] == "--rounds" ? int.Parse(args[2], CultureInfo.InvariantCulture) : 5;
        var times = new Dictionary<string, List<double>> { ["inspect"] = [], ["read"] = [] };
        var allocated = new Dictionary<string, long>();
        for (var round = 0; round < rounds; round++)
        {
            foreach (var way in round % 2 == 0 ? new[] { "inspect", "read" } : ["read", "inspect"])
            {
                GC.Collect();
                var before = GC.GetAllocatedBytesForCurrentThread();
                var started = Stopwatch.GetTimestamp();
                if (way == "inspect")
                {
                    OnnxFileInspector.Inspect(file);
                }
                else
                {
                    GC.KeepAlive(OnnxModelFile.Read(file, CancellationToken.None));
                }

                times[way].Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                allocated[way] = GC.GetAllocatedBytesForCurrentThread() - before;
            }
        }

        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{file}: {new FileInfo(file).Length} bytes, {rounds} rounds"));
        foreach (var (way, list) in times)
        {
            var sorted = list.Order().ToArray();
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{way,-8} median {sorted[sorted.Length / 2],9:F1} ms, allocated {allocated[way],12} bytes per read"));
        }

        return 0;
    }
}
