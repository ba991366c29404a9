using MaaS.Benchmarks.Baselines;

namespace MaaS.Benchmarks.Clients;

/// <summary>
/// <c>load --protocol grpc|http --url URL --model NAME --body request --header-length N [--channels C]</c>: the server under a
/// closed-loop load (<see cref="ClosedLoop"/>) of one V2 binary request (<see cref="BinaryInferBody"/>), sent over
/// HTTP (<see cref="HttpInferCaller"/>, URL the HTTP port) or gRPC (<see cref="GrpcInferCaller"/>, URL the gRPC port),
/// then its windows as <see cref="WindowCommand"/> says; each line is named after the protocol. The same client code
/// drives both protocols, so they are compared on equal terms. One call is made first: if it fails, the run ends.
/// </summary>
internal static class LoadCommand
{
    public static async Task<int> RunAsync(LoadArguments args, TextReader input, TextWriter output, CancellationToken cancellationToken)
    {
        var body = BinaryInferBody.Parse(await File.ReadAllBytesAsync(args.Text("body"), cancellationToken), args.Integer("header-length", 0));
        var server = new Uri(args.Text("url"));
        var model = args.Text("model");
        var protocol = args.Text("protocol");
        using IInferCaller caller = protocol switch
        {
            "grpc" => new GrpcInferCaller(server, model, body, args.Integer("channels", 1, min: 1)),
            "http" => new HttpInferCaller(server, model, body),
            _ => throw new ArgumentException($"--protocol must be grpc or http, not '{protocol}'"),
        };

        if (await caller.CallAsync(cancellationToken) is { } error)
        {
            await Console.Error.WriteLineAsync($"{protocol}: the first call to {model} at {server} failed: {error}".AsMemory(), cancellationToken);
            return 1;
        }

        var inputs = string.Join(", ", body.Inputs.Select(tensor => $"{tensor.Name} {tensor.DataType}[{string.Join(',', tensor.Shape)}]"));
        await Console.Error.WriteLineAsync(
            $"{protocol}: {model} at {server}, inputs {inputs}, outputs {string.Join(", ", body.Outputs)}".AsMemory(), cancellationToken);
        var loop = new ClosedLoop(caller, Console.Error);
        await WindowCommand.RunAsync(args, input, output, protocol, loop.RunAsync, cancellationToken);
        return 0;
    }
}
