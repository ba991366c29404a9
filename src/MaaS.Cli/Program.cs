namespace MaaS.Cli;

internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
        await using var stdin = Console.OpenStandardInput();
        return await CliApp.RunAsync(args, Console.Out, Console.Error, stdin, handler: null, CancellationToken.None).ConfigureAwait(false);
    }
}
