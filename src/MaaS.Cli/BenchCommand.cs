using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using MaaS.Client;
using Spectre.Console;

namespace MaaS.Cli;

/// <summary>
/// <c>maas bench</c>: a closed-loop load generator in the spirit of perf_analyzer. For each concurrency level: a
/// warm-up, then measurement windows of the given length; throughput, client latency p50/p90/p99, and the server's
/// mean queue and compute times over the measured span (from the statistics extension).
/// </summary>
internal static class BenchCommand
{
    public static void Add(RootCommand root, Commands.Wrap wrap)
    {
        var name = new Argument<string>("NAME") { Description = "Model name." };
        var concurrency = new Option<string>("--concurrency") { Description = "Concurrency levels, e.g. 1,8,32.", DefaultValueFactory = _ => "1" };
        var duration = new Option<string>("--duration") { Description = "Measured time per level, e.g. 10s or 500ms.", DefaultValueFactory = _ => "10s" };
        var warmup = new Option<string>("--warmup") { Description = "Unmeasured time before each level.", DefaultValueFactory = _ => "2s" };
        var json = new Option<bool>("--json-tensors") { Description = "Send JSON tensors (default: the binary extension)." };
        var batch = new Option<int>("--batch") { Description = "Batch size for a variable batch dimension of generated inputs.", DefaultValueFactory = _ => 1 };
        var inputs = new Option<string[]>("--input", "-i") { Description = "INPUT=FILE (.npy, .json nested array, - for stdin): send these instead of generated zeros; inputs not given are generated." };
        var shapes = new Option<string[]>("--shape") { Description = "INPUT=D,D,...: the shape of an input whose file has none (flat .json)." };
        var command = new Command("bench", "Measure throughput and latency at given concurrency levels.") { name, concurrency, duration, warmup, json, batch, inputs, shapes };
        command.SetAction((parse, ct) => wrap(parse, (context, cancellation) => RunAsync(
            context,
            parse.GetValue(name)!,
            ParseLevels(parse.GetValue(concurrency)!),
            ParseDuration(parse.GetValue(duration)!, "--duration"),
            ParseDuration(parse.GetValue(warmup)!, "--warmup"),
            !parse.GetValue(json),
            parse.GetValue(batch),
            parse.GetValue(inputs) ?? [],
            parse.GetValue(shapes) ?? [],
            cancellation))(ct));
        root.Subcommands.Add(command);
    }

    private static async Task<int> RunAsync(CommandContext context, string model, int[] levels, TimeSpan duration, TimeSpan warmup, bool binary, int batch, string[] inputSpecs, string[] shapeSpecs, CancellationToken cancellationToken)
    {
        if (batch < 1)
        {
            throw new UsageException("--batch is at least 1");
        }

        var given = await InferCommand.ReadInputsAsync(context, model, ModelVersion.Latest, inputSpecs, shapeSpecs, cancellationToken).ConfigureAwait(false);
        var metadata = await context.Client.GetModelMetadataAsync(model, cancellationToken: cancellationToken).ConfigureAwait(false);
        var inputs = metadata.Inputs.Select(i => given.FirstOrDefault(g => g.Name == i.Name) ?? Generate(i, batch)).ToList();

        // A wrong file shows in one request, not as thousands of failures.
        await context.Client.InferAsync(model, inputs, new InferOptions { Binary = binary }, cancellationToken).ConfigureAwait(false);
        var options = new InferOptions { Binary = binary };
        var send = await CreateSenderAsync(context, model, inputs, options, cancellationToken).ConfigureAwait(false);
        var rows = new List<BenchRow>();
        foreach (var level in levels)
        {
            var workers = Enumerable.Range(0, level).Select(_ => send()).ToArray();
            try
            {
                await LoadAsync(workers, warmup, latencies: null, cancellationToken).ConfigureAwait(false);
                var before = await ServerTotalsAsync(context.Client, model, cancellationToken).ConfigureAwait(false);
                var latencies = new List<double>[level];
                var elapsed = await LoadAsync(workers, duration, latencies, cancellationToken).ConfigureAwait(false);
                var after = await ServerTotalsAsync(context.Client, model, cancellationToken).ConfigureAwait(false);
                rows.Add(Row(level, latencies, elapsed, before, after));
            }
            finally
            {
                foreach (var worker in workers)
                {
                    await worker.DisposeAsync().ConfigureAwait(false);
                }
            }
        }

        if (context.Json)
        {
            var document = JsonSerializer.Serialize(rows.Select(r => new Dictionary<string, double>
            {
                ["concurrency"] = r.Concurrency, ["requests"] = r.Requests, ["throughput_per_s"] = r.Throughput,
                ["p50_ms"] = r.P50, ["p90_ms"] = r.P90, ["p99_ms"] = r.P99,
                ["server_queue_ms"] = double.IsNaN(r.QueueMs) ? -1 : r.QueueMs, ["server_compute_ms"] = double.IsNaN(r.ComputeMs) ? -1 : r.ComputeMs,
            }).ToList(), CliJsonContext.Default.ListDictionaryStringDouble);
            return await Commands.WriteJsonAsync(context, document).ConfigureAwait(false);
        }

        var table = new Table().AddColumns("concurrency", "requests", "infer/s", "p50 ms", "p90 ms", "p99 ms", "server queue ms", "server compute ms");
        foreach (var r in rows)
        {
            table.AddRow(F(r.Concurrency), F(r.Requests), F(r.Throughput), F(r.P50), F(r.P90), F(r.P99), F(r.QueueMs), F(r.ComputeMs));
        }

        context.Console.Write(table);
        return CliApp.Success;
    }

    private static BenchRow Row(int level, List<double>[] latencies, TimeSpan elapsed, (long Count, double QueueNs, double ComputeNs) before, (long Count, double QueueNs, double ComputeNs) after)
    {
        var all = latencies.SelectMany(l => l).Order().ToArray();
        var count = after.Count - before.Count;
        return new BenchRow(
            level,
            all.Length,
            all.Length / elapsed.TotalSeconds,
            Percentile(all, 0.50),
            Percentile(all, 0.90),
            Percentile(all, 0.99),
            count > 0 ? (after.QueueNs - before.QueueNs) / count / 1e6 : double.NaN,
            count > 0 ? (after.ComputeNs - before.ComputeNs) / count / 1e6 : double.NaN);
    }

    /// <summary>
    /// What makes one worker's sender: over HTTP, a connection of its own sending the request encoded once (as
    /// perf_analyzer prepares its requests before it measures); over gRPC, or with the network replaced, the client.
    /// </summary>
    private static async Task<Func<ILoadSender>> CreateSenderAsync(CommandContext context, string model, List<InferInput> inputs, InferOptions options, CancellationToken cancellationToken)
    {
        if (context.Direct is not { } direct)
        {
            return () => new ClientSender(context.Client, model, inputs, options);
        }

        var root = direct.BaseAddress.AbsoluteUri.EndsWith('/') ? direct.BaseAddress : new Uri(direct.BaseAddress.AbsoluteUri + "/");
        var url = new Uri(root, MaaSClient.ModelPath(model, options.Version) + "/infer");
        using var content = HttpInferCodec.EncodeRequest(inputs, options);
        var request = await HttpLoadConnection.FormatAsync(url, direct.ApiKey, content, cancellationToken).ConfigureAwait(false);
        return () => new HttpLoadConnection(url, request);
    }

    /// <summary>Keeps one request per worker in flight for <paramref name="span"/>; the time it took.</summary>
    private static async Task<TimeSpan> LoadAsync(ILoadSender[] workers, TimeSpan span, List<double>[]? latencies, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(workers.Select(async (worker, index) =>
        {
            var own = new List<double>();
            if (latencies is not null)
            {
                latencies[index] = own;
            }

            while (clock.Elapsed < span)
            {
                var started = Stopwatch.GetTimestamp();
                await worker.SendAsync(cancellationToken).ConfigureAwait(false);
                own.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
        })).ConfigureAwait(false);
        return clock.Elapsed;
    }

    private sealed class ClientSender(IMaaSClient client, string model, List<InferInput> inputs, InferOptions options) : ILoadSender
    {
        public Task SendAsync(CancellationToken cancellationToken) => client.InferAsync(model, inputs, options, cancellationToken);

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    private static async Task<(long Count, double QueueNs, double ComputeNs)> ServerTotalsAsync(IMaaSClient client, string model, CancellationToken cancellationToken)
    {
        var stats = await client.GetStatisticsAsync(model, cancellationToken: cancellationToken).ConfigureAwait(false);
        long count = 0;
        double queue = 0, compute = 0;
        foreach (var version in stats.ModelStats)
        {
            count += version.InferenceStats.Success.Count;
            queue += version.InferenceStats.Queue.Ns;
            compute += version.InferenceStats.ComputeInfer.Ns;
        }

        return (count, queue, compute);
    }

    /// <summary>An input of the model's datatype and shape (variable dimensions: the batch for the first, 1 after), all zeros.</summary>
    private static InferInput Generate(TensorMetadata input, int batch)
    {
        var shape = input.Shape.Select((d, i) => d >= 0 ? d : i == 0 ? batch : 1).ToArray();
        var count = InferInput.ElementCount(shape);
        if (input.Datatype == Datatypes.Bytes)
        {
            return InferInput.FromStrings(input.Name, Enumerable.Repeat("", checked((int)count)).ToList(), shape);
        }

        var size = Datatypes.ElementSize(input.Datatype);
        return InferInput.FromRaw(input.Name, input.Datatype, new byte[checked(count * size)], shape);
    }

    private static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];

    private static string F(double value) => double.IsNaN(value) ? "-" : value.ToString(value >= 100 ? "0" : "0.###", CultureInfo.InvariantCulture);

    private static int[] ParseLevels(string value)
    {
        var levels = value.Split(',', StringSplitOptions.TrimEntries).Select(l => int.TryParse(l, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n is > 0 and <= 1024 ? n : -1).ToArray();
        return levels.Any(l => l < 0) ? throw new UsageException($"--concurrency '{value}': expected integers 1..1024 separated by commas") : levels;
    }

    internal static TimeSpan ParseDuration(string value, string option)
    {
        var (number, unit) = value.EndsWith("ms", StringComparison.Ordinal) ? (value[..^2], 1e-3) : value.EndsWith('s') ? (value[..^1], 1.0) : (value, 1.0);
        return double.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var amount) && amount >= 0 && amount * unit <= 3600
            ? TimeSpan.FromSeconds(amount * unit)
            : throw new UsageException($"{option} '{value}': expected a duration such as 10s or 500ms");
    }

    private sealed record BenchRow(double Concurrency, double Requests, double Throughput, double P50, double P90, double P99, double QueueMs, double ComputeMs);
}

/// <summary>One bench worker's way of sending the request it repeats.</summary>
internal interface ILoadSender : IAsyncDisposable
{
    Task SendAsync(CancellationToken cancellationToken);
}

[System.Text.Json.Serialization.JsonSerializable(typeof(List<Dictionary<string, double>>))]
internal sealed partial class CliJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
