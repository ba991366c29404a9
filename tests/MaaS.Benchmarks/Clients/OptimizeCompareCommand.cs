using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using MaaS.Benchmarks.Baselines;
using Microsoft.ML.Tokenizers;

namespace MaaS.Benchmarks.Clients;

/// <summary>
/// <c>optimize-compare --url URL --model NAME --source-version N --vocab vocab.txt --sentences FILE [--method int8]
/// [--optimized-version M] [--concurrency 8] [--seconds 5] [--rounds 3] [--repetitions 5]</c>: a BERT-style sentence
/// embedding model (inputs input_ids, attention_mask, token_type_ids; output last_hidden_state) against the version the
/// server derives from it with <c>POST .../versions/N/optimize</c> (or an existing <c>--optimized-version</c>):
/// <list type="bullet">
/// <item>size: the two versions' <c>size_bytes</c> in the registry view;</item>
/// <item>accuracy: each sentence's embedding (the mask-weighted mean of last_hidden_state, L2-normalised, as
/// sentence-transformers pools it) from both versions; the cosine between them, minimum and mean;</item>
/// <item>batch-1 latency: every sentence sent to both versions in turn (the order swapped each repetition), medians;</item>
/// <item>throughput: a closed loop of C callers on the first sentence, windows alternating between the versions, medians.</item>
/// </list>
/// Everything goes through the server over HTTP with binary tensors, so both versions are measured as clients see them.
/// </summary>
internal static class OptimizeCompareCommand
{
    private const string HeaderLengthName = "Inference-Header-Content-Length";

    public static async Task<int> RunAsync(LoadArguments args, TextWriter output, CancellationToken cancellationToken)
    {
        var server = new Uri(args.Text("url"));
        var model = args.Text("model");
        var source = args.Integer("source-version", 1, min: 1);
        var tokenizer = await BertTokenizer.CreateAsync(args.Text("vocab"), cancellationToken: cancellationToken);
        var sentences = (await File.ReadAllLinesAsync(args.Text("sentences"), cancellationToken)).Where(line => line.Length > 0).ToArray();
        if (sentences.Length == 0)
        {
            throw new ArgumentException("--sentences names a file without sentences (one per line)");
        }

        using var client = new HttpClient { BaseAddress = server, Timeout = TimeSpan.FromMinutes(10) };
        long optimized;
        if (args.Has("optimized-version"))
        {
            optimized = args.Integer("optimized-version", 0, min: 1);
        }
        else if (await OptimizeAsync(client, model, source, args.Has("method") ? args.Text("method") : "int8", output, cancellationToken) is { } made)
        {
            optimized = made;
        }
        else
        {
            return 1;
        }

        var sizes = await SizesAsync(client, model, cancellationToken);
        var ids = sentences.Select(sentence => tokenizer.EncodeToIds(sentence)).ToArray();
        await Console.Error.WriteLineAsync($"{sentences.Length} sentences, {ids.Min(s => s.Count)}-{ids.Max(s => s.Count)} tokens; the first: {string.Join(' ', ids[0])}".AsMemory(), cancellationToken);
        var bodies = ids.Select(Body).ToArray();

        // Accuracy: the same sentence through both versions.
        var cosines = new List<double>();
        foreach (var body in bodies)
        {
            var a = Embedding(await InferAsync(client, model, source, body, cancellationToken));
            var b = Embedding(await InferAsync(client, model, optimized, body, cancellationToken));
            cosines.Add(Dot(a, b));
        }

        // Batch-1 latency, interleaved per sentence, the order swapped every repetition.
        var latency = new Dictionary<long, List<double>> { [source] = [], [optimized] = [] };
        for (var repetition = 0; repetition < args.Integer("repetitions", 5, min: 1); repetition++)
        {
            foreach (var body in bodies)
            {
                foreach (var version in repetition % 2 == 0 ? new[] { source, optimized } : [optimized, source])
                {
                    var started = Stopwatch.GetTimestamp();
                    await InferAsync(client, model, version, body, cancellationToken);
                    latency[version].Add(Stopwatch.GetElapsedTime(started).TotalMicroseconds);
                }
            }
        }

        // Throughput: windows of a closed loop on each version in turn.
        var concurrency = args.Integer("concurrency", 8, min: 1);
        var seconds = TimeSpan.FromSeconds(args.Seconds("seconds", 5));
        var parsed = BinaryInferBody.Parse(bodies[0].Bytes, bodies[0].HeaderLength);
        using var sourceCaller = new HttpInferCaller(server, model, parsed, source);
        using var optimizedCaller = new HttpInferCaller(server, model, parsed, optimized);
        var loops = new Dictionary<long, ClosedLoop>
        {
            [source] = new(sourceCaller, Console.Error),
            [optimized] = new(optimizedCaller, Console.Error),
        };
        var rps = new Dictionary<long, List<double>> { [source] = [], [optimized] = [] };
        foreach (var version in new[] { source, optimized })
        {
            await loops[version].RunAsync(concurrency, TimeSpan.FromSeconds(2), cancellationToken);
        }

        for (var round = 0; round < args.Integer("rounds", 3, min: 1); round++)
        {
            foreach (var version in round % 2 == 0 ? new[] { source, optimized } : [optimized, source])
            {
                var window = await loops[version].RunAsync(concurrency, seconds, cancellationToken);
                if (window.Errors > 0)
                {
                    throw new InvalidOperationException($"{window.Errors} calls to version {version} failed");
                }

                rps[version].Add(window.RequestsPerSecond);
            }
        }

        var lines = new[]
        {
            "| | source (v" + source + ") | optimized (v" + optimized + ") | optimized / source |",
            "|---|---|---|---|",
            Row("size (bytes)", sizes[source], sizes[optimized]),
            Row("batch-1 latency, median (µs)", Median(latency[source]), Median(latency[optimized])),
            Row($"throughput at c={concurrency}, median (req/s)", Median(rps[source]), Median(rps[optimized])),
            string.Create(CultureInfo.InvariantCulture,
                $"| embedding cosine over {sentences.Length} sentences | min {cosines.Min():F4} | mean {cosines.Average():F4} | |"),
        };
        foreach (var line in lines)
        {
            await output.WriteLineAsync(line.AsMemory(), cancellationToken);
        }

        await Console.Error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"windows (req/s): source {string.Join(' ', rps[source].Select(r => r.ToString("F1", CultureInfo.InvariantCulture)))}; optimized {string.Join(' ', rps[optimized].Select(r => r.ToString("F1", CultureInfo.InvariantCulture)))}").AsMemory(), cancellationToken);
        return 0;
    }

    private static string Row(string what, double source, double optimized) =>
        string.Create(CultureInfo.InvariantCulture, $"| {what} | {source:0.#} | {optimized:0.#} | {optimized / source:F2}x |");

    private static async Task<long?> OptimizeAsync(HttpClient client, string model, long source, string method, TextWriter output, CancellationToken cancellationToken)
    {
        using var content = new StringContent(new JsonObject { ["method"] = method }.ToJsonString(), Encoding.UTF8, "application/json");
        using var response = await client.PostAsync($"v2/repository/models/{Uri.EscapeDataString(model)}/versions/{source}/optimize", content, cancellationToken);
        var report = await response.Content.ReadAsStringAsync(cancellationToken);
        await output.WriteLineAsync($"optimize {method}: HTTP {(int)response.StatusCode} {report}".AsMemory(), cancellationToken);
        if (response.StatusCode != HttpStatusCode.Created)
        {
            return null;
        }

        return JsonNode.Parse(report)?["version"]?.GetValue<long>();
    }

    private static async Task<Dictionary<long, double>> SizesAsync(HttpClient client, string model, CancellationToken cancellationToken)
    {
        using var view = JsonDocument.Parse(await client.GetStringAsync($"v2/repository/models/{Uri.EscapeDataString(model)}", cancellationToken));
        return view.RootElement.GetProperty("versions").EnumerateArray()
            .ToDictionary(version => long.Parse(version.GetProperty("version").GetString()!, CultureInfo.InvariantCulture), version => (double)version.GetProperty("size_bytes").GetInt64());
    }

    /// <summary>One sentence as a V2 binary request: the three INT64 [1, n] inputs, last_hidden_state asked for in binary.</summary>
    private static BinaryInferBody Body(IReadOnlyList<int> ids)
    {
        var n = ids.Count;
        var tensors = new byte[3 * n * sizeof(long)];
        for (var i = 0; i < n; i++)
        {
            BinaryPrimitives.WriteInt64LittleEndian(tensors.AsSpan(i * 8), ids[i]);
            BinaryPrimitives.WriteInt64LittleEndian(tensors.AsSpan((n + i) * 8), 1);
        }

        var inputs = new JsonArray();
        foreach (var name in new[] { "input_ids", "attention_mask", "token_type_ids" })
        {
            inputs.Add(new JsonObject
            {
                ["name"] = name,
                ["shape"] = new JsonArray(1, n),
                ["datatype"] = "INT64",
                ["parameters"] = new JsonObject { ["binary_data_size"] = n * sizeof(long) },
            });
        }

        var header = Encoding.UTF8.GetBytes(new JsonObject
        {
            ["inputs"] = inputs,
            ["outputs"] = new JsonArray(new JsonObject { ["name"] = "last_hidden_state", ["parameters"] = new JsonObject { ["binary_data"] = true } }),
        }.ToJsonString());
        return BinaryInferBody.Parse([.. header, .. tensors], header.Length);
    }

    private static async Task<(float[] Values, int Width)> InferAsync(HttpClient client, string model, long version, BinaryInferBody body, CancellationToken cancellationToken)
    {
        using var content = new ByteArrayContent(body.Bytes);
        content.Headers.TryAddWithoutValidation("Content-Type", "application/octet-stream");
        using var request = new HttpRequestMessage(HttpMethod.Post, $"v2/models/{Uri.EscapeDataString(model)}/versions/{version}/infer") { Content = content };
        request.Headers.TryAddWithoutValidation(HeaderLengthName, body.HeaderLength.ToString(CultureInfo.InvariantCulture));
        using var response = await client.SendAsync(request, cancellationToken);
        var answer = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        if (response.StatusCode != HttpStatusCode.OK || !response.Headers.TryGetValues(HeaderLengthName, out var values))
        {
            throw new InvalidOperationException($"version {version}: HTTP {(int)response.StatusCode} {Encoding.UTF8.GetString(answer)}");
        }

        var headerLength = int.Parse(values.First(), CultureInfo.InvariantCulture);
        using var header = JsonDocument.Parse(answer.AsMemory(0, headerLength));
        var width = header.RootElement.GetProperty("outputs")[0].GetProperty("shape").EnumerateArray().Last().GetInt32();
        var data = answer.AsSpan(headerLength);
        var values32 = new float[data.Length / sizeof(float)];
        for (var i = 0; i < values32.Length; i++)
        {
            values32[i] = BinaryPrimitives.ReadSingleLittleEndian(data[(i * 4)..]);
        }

        return (values32, width);
    }

    /// <summary>The mean of the token vectors (every token is real: one unpadded sentence), L2-normalised.</summary>
    private static double[] Embedding((float[] Values, int Width) output)
    {
        var (lastHiddenState, width) = output;
        var tokens = lastHiddenState.Length / width;
        var mean = new double[width];
        for (var t = 0; t < tokens; t++)
        {
            for (var d = 0; d < width; d++)
            {
                mean[d] += lastHiddenState[(t * width) + d] / tokens;
            }
        }

        var norm = Math.Sqrt(Dot(mean, mean));
        return [.. mean.Select(v => v / norm)];
    }

    private static double Dot(double[] a, double[] b) => a.Zip(b, (x, y) => x * y).Sum();

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
