using System.Globalization;

namespace MaaS.Benchmarks.Baselines;

/// <summary>
/// How the load modes (raw, load) are driven: either <c>--concurrency C --seconds S [--warmup W]</c> for one window
/// after an untimed one, or, without <c>--seconds</c>, one window per line of standard input (<c>concurrency
/// seconds</c>), so a script can interleave windows of several processes while all of them stay warm. Each window
/// prints one <see cref="WindowResult"/> line.
/// </summary>
internal static class WindowCommand
{
    public static async Task RunAsync(
        LoadArguments args,
        TextReader input,
        TextWriter output,
        string name,
        Func<int, TimeSpan, CancellationToken, Task<WindowResult>> window,
        CancellationToken cancellationToken)
    {
        if (args.Has("seconds"))
        {
            var concurrency = args.Integer("concurrency", 1, min: 1);
            await window(concurrency, TimeSpan.FromSeconds(args.Seconds("warmup", 3)), cancellationToken);
            var result = await window(concurrency, TimeSpan.FromSeconds(args.Seconds("seconds", 5)), cancellationToken);
            await output.WriteLineAsync(result.Format(name).AsMemory(), cancellationToken);
            return;
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

            var result = await window(concurrency, TimeSpan.FromSeconds(seconds), cancellationToken);
            await output.WriteLineAsync(result.Format(name).AsMemory(), cancellationToken);
            await output.FlushAsync(cancellationToken);
        }
    }
}
