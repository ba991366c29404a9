using System.Globalization;

namespace MaaS.Benchmarks.Baselines;

/// <summary>The <c>--name value</c> options of the load-benchmark modes (raw, kestrel, load); a mistake ends the run with its name.</summary>
internal sealed class LoadArguments
{
    private readonly Dictionary<string, string> _values;

    private LoadArguments(Dictionary<string, string> values) => _values = values;

    public static LoadArguments Parse(IReadOnlyList<string> args)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Count; i += 2)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 == args.Count)
            {
                throw new ArgumentException($"expected --name value pairs, got '{args[i]}'", nameof(args));
            }

            values[args[i][2..]] = args[i + 1];
        }

        return new LoadArguments(values);
    }

    public bool Has(string name) => _values.ContainsKey(name);

    public string Text(string name) =>
        _values.TryGetValue(name, out var value) ? value : throw new ArgumentException($"--{name} is required");

    public int Integer(string name, int fallback, int min = 0) =>
        !_values.TryGetValue(name, out var text) ? fallback
        : int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= min ? value
        : throw new ArgumentException($"--{name} must be an integer of at least {min}, not '{text}'");

    public double Seconds(string name, double fallback) =>
        !_values.TryGetValue(name, out var text) ? fallback
        : double.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value) ? value
        : throw new ArgumentException($"--{name} must be a number of seconds, not '{text}'");
}
