namespace MaaS.Benchmarks.Baselines;

/// <summary>
/// <c>raw --model model.onnx --body request [--header-length N] [--sharing plain|leased] [--instances 2]</c> (plain, the
/// default: one session with default options shared by every caller; leased: the server's options and scheme with
/// <c>--instances</c> sessions, see <see cref="RawSharing"/>), then its windows as <see cref="WindowCommand"/> says:
/// one, or one per line of standard input, so a script can interleave windows of this process with windows of a
/// server while both stay warm.
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

        await WindowCommand.RunAsync(args, input, output, name, loop.RunAsync, cancellationToken);
        return 0;
    }
}
