using BenchmarkDotNet.Running;
using MaaS.Benchmarks.Baselines;

// The codec micro-benchmarks (BenchmarkDotNet, the default), or one of the two baselines of the load benchmark
// (load/compare.sh): "raw" (ONNX Runtime in-process) and "kestrel" (HTTP without inference).
using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    stop.Cancel();
};

return args.FirstOrDefault() switch
{
    "raw" => await RawInferenceCommand.RunAsync(LoadArguments.Parse(args[1..]), Console.In, Console.Out, stop.Token),
    "kestrel" => await BareKestrelEndpoint.RunAsync(LoadArguments.Parse(args[1..]), stop.Token),
    _ => RunCodecBenchmarks(args),
};

static int RunCodecBenchmarks(string[] args)
{
    BenchmarkSwitcher.FromAssembly(typeof(MaaS.Benchmarks.CodecBenchmarks).Assembly).Run(args);
    return 0;
}
