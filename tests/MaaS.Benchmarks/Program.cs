using BenchmarkDotNet.Running;
using MaaS.Benchmarks.Baselines;
using MaaS.Benchmarks.Clients;

// The codec micro-benchmarks (BenchmarkDotNet, the default), one of the two baselines of the load benchmark
// (load/compare.sh): "raw" (ONNX Runtime in-process) and "kestrel" (HTTP without inference), or "load", the
// client of load/grpc-vs-http.sh (a closed loop of gRPC or HTTP calls to a running server), or "int8-kernels", the
// comparison of the int8 transform's two MatMul forms (Optimization/Int8KernelComparison.cs).
using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    stop.Cancel();
};

return args.FirstOrDefault() switch
{
    "raw" => await RawInferenceCommand.RunAsync(LoadArguments.Parse(args[1..]), Console.In, Console.Out, stop.Token),
    "load" => await LoadCommand.RunAsync(LoadArguments.Parse(args[1..]), Console.In, Console.Out, stop.Token),
    "optimize-compare" => await OptimizeCompareCommand.RunAsync(LoadArguments.Parse(args[1..]), Console.Out, stop.Token),
    "kestrel" => await BareKestrelEndpoint.RunAsync(LoadArguments.Parse(args[1..]), stop.Token),
    "onnx-read" => MaaS.Benchmarks.Optimization.OnnxReadComparison.Run(args[1..], Console.Out),
    "int8-kernels" => MaaS.Benchmarks.Optimization.Int8KernelComparison.Run(args[1..], Console.Out),
    _ => RunCodecBenchmarks(args),
};

static int RunCodecBenchmarks(string[] args)
{
    BenchmarkSwitcher.FromAssembly(typeof(MaaS.Benchmarks.CodecBenchmarks).Assembly).Run(args);
    return 0;
}
