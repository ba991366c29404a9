using System.Globalization;

namespace MaaS.Benchmarks.Baselines;

/// <summary>
/// <c>raw --model model.onnx --body request [--header-length N] [--sharing plain|leased] [--instances 2]</c> (plain, the
/// default: one session with default options shared by every caller; leased: the server's options and scheme with
/// <c>--instances</c> sessions, see <see cref="RawSharing"/>), then either
/// <c>--concurrency C --seconds S [--warmup W]</c> for one window, or, without <c>--seconds</c>, one window per line
/// of standard input (<c>concurrency seconds</c>), so a script can interleave windows of this process with windows of
/// a server while both stay warm. Each window prints one <see cref="WindowResult"/> line.
/// </summary>
internal static class RawInferenceCommand
{
    public static async Task<int> RunAsync(LoadArguments args, TextReader input, TextWriter output, CancellationToken cancellationToken)
    {
        var body = await File.ReadAllBytesAsync(args.Text("body"), cancellationToken);
        int? headerLength = args.Has("header-length") ? args.Integer("header-length", 0) : null;
        var sharing = args.Has("sharing") ? args.Text("sharing") switch
        {
            "plain" => RawSharing.Plain,
            "leased" => RawSharing.Leased,
            var other => throw new ArgumentException($"--sharing must be plain or leased, not '{other}'"),
        } : RawSharing.Plain;
        var name = sharing == RawSharing.Plain ? "raw" : "raw-leased";
        using var loop = RawInferenceLoop.Create(args.Text("model"), body, headerLength, sharing, args.Integer("instances", 2, min: 1));
        await Console.Error.WriteLineAsync($"{name}: {args.Text("model")}, {loop.InputBytes} bytes of input tensors decoded once".AsMemory(), cancellationToken);

        if (args.Has("seconds"))
        {
            var concurrency = args.Integer("concurrency", 1, min: 1);
            await loop.RunAsync(concurrency, TimeSpan.FromSeconds(args.Seconds("warmup", 3)), cancellationToken);
            var result = await loop.RunAsync(concurrency, TimeSpan.FromSeconds(args.Seconds("seconds", 5)), cancellationToken);
            await output.WriteLineAsync(result.Format(name).AsMemory(), cancellationToken);
            return 0;
        }

        while (await input.ReadLineAsync(cancellationToken) is { Length: > 0 } line)
        {
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length != 2
                || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var concurrency) || concurrency < 1
                || !double.TryParse(parts[1], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var seconds))
            {
                throw new FormatException($"expected a line '<concurrency> <seconds>', got '{line}'");
            }

            var result = await loop.RunAsync(concurrency, TimeSpan.FromSeconds(seconds), cancellationToken);
            await output.WriteLineAsync(result.Format(name).AsMemory(), cancellationToken);
            await output.FlushAsync(cancellationToken);
        }

        return 0;
    }
}
