namespace MaaS.Cli;

internal static class CliApp
{
    public static Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, Stream input, HttpMessageHandler? handler, CancellationToken cancellationToken) =>
        Task.FromResult(0);
}
