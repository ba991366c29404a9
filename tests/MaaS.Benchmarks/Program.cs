using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(MaaS.Benchmarks.CodecBenchmarks).Assembly).Run(args);
