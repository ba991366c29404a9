using System.CommandLine;
using MaaS.Client;
using Microsoft.Extensions.DependencyInjection;
using Spectre.Console;

namespace MaaS.Cli;

/// <summary>
/// The <c>maas</c> command line. Exit codes: 0 success; 1 an error answer from the server or an unreachable server
/// (one line on stderr); 2 a usage error, a missing or malformed input file among them.
/// </summary>
internal static class CliApp
{
    public const int Success = 0;
    public const int ServerError = 1;
    public const int UsageError = 2;

    /// <summary>Runs one command line; <paramref name="handler"/> replaces the network (tests).</summary>
    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, Stream input, HttpMessageHandler? handler, CancellationToken cancellationToken)
    {
        var globals = new GlobalOptions();
        var root = new RootCommand("Manage and query a MaaS inference server.");
        globals.AddTo(root);

        // `--version` names a model version (infer, upload): the tool's own version is not an option.
        root.Options.Remove(root.Options.OfType<VersionOption>().Single());
        Commands.Add(root, globals, (parse, run) => async cancellation =>
        {
            try
            {
                var services = CreateServices(parse.GetValue(globals.Url)!, parse.GetValue(globals.ApiKey), parse.GetValue(globals.Transport) == "grpc" ? parse.GetValue(globals.GrpcUrl) : null, handler);
                await using (services.ConfigureAwait(false))
                {
                    // The bench's own HTTP connections need the network: none when tests replace it, none over gRPC.
                    var direct = handler is null && parse.GetValue(globals.Transport) == "http"
                        ? new DirectHttp(ParseAddress(parse.GetValue(globals.Url)!, "--url"), parse.GetValue(globals.ApiKey))
                        : null;
                    var context = new CommandContext(services.GetRequiredService<IMaaSClient>(), CreateConsole(output), output, input, parse.GetValue(globals.Output) == "json", direct);
                    return await run(context, cancellation).ConfigureAwait(false);
                }
            }
            catch (MaaSException e)
            {
                await error.WriteLineAsync("error: " + OneLine(e.StatusCode is { } status ? $"{(int)status} {e.Message}" : e.Message)).ConfigureAwait(false);
                return ServerError;
            }
            catch (UsageException e)
            {
                await error.WriteLineAsync("error: " + OneLine(e.Message)).ConfigureAwait(false);
                return UsageError;
            }
        });

        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            foreach (var parseError in parsed.Errors)
            {
                await error.WriteLineAsync("error: " + parseError.Message).ConfigureAwait(false);
            }

            return UsageError;
        }

        return await parsed.InvokeAsync(new InvocationConfiguration { Output = output, Error = error }, cancellationToken).ConfigureAwait(false);
    }

    private static Uri ParseAddress(string url, string option) =>
        Uri.TryCreate(url, UriKind.Absolute, out var address) && address.Scheme is "http" or "https"
            ? address
            : throw new UsageException($"{option} '{url}' is not an http(s) address");

    private static string OneLine(string message) => message.ReplaceLineEndings(" ");

    private static IAnsiConsole CreateConsole(TextWriter output) => AnsiConsole.Create(new AnsiConsoleSettings
    {
        Out = new AnsiConsoleOutput(output),
        Ansi = output == Console.Out ? AnsiSupport.Detect : AnsiSupport.No,
        ColorSystem = output == Console.Out ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
        Interactive = output == Console.Out ? InteractionSupport.Detect : InteractionSupport.No,
    });

    /// <summary>The client; with <paramref name="grpcUrl"/> the gRPC transport (calls only HTTP has still go to <paramref name="url"/>).</summary>
    private static ServiceProvider CreateServices(string url, string? apiKey, string? grpcUrl, HttpMessageHandler? handler)
    {
        var baseAddress = ParseAddress(url, "--url");
        var grpcAddress = grpcUrl is null ? null : ParseAddress(grpcUrl, "--grpc-url");
        var services = new ServiceCollection();
        var builder = services.AddMaaSClient(o =>
        {
            o.BaseAddress = baseAddress;
            o.ApiKey = apiKey;
            o.MaxRetries = 1;
            if (grpcAddress is not null)
            {
                o.Transport = MaaSTransport.Grpc;
                o.GrpcAddress = grpcAddress;
                if (handler is not null)
                {
                    o.ConfigureGrpcChannel = channel => channel.HttpHandler = handler;
                }
            }
        });
        if (handler is not null)
        {
            builder.ConfigurePrimaryHttpMessageHandler(() => handler);
        }

        return services.BuildServiceProvider();
    }
}

/// <summary>The options every command takes.</summary>
internal sealed class GlobalOptions
{
    public Option<string> Url { get; } = new("--url")
    {
        Description = "The server's address (env MAAS_URL).",
        Recursive = true,
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("MAAS_URL") is { Length: > 0 } url ? url : "http://localhost:8000",
    };

    public Option<string?> ApiKey { get; } = new("--api-key")
    {
        Description = "API key, sent as Authorization: Bearer (env MAAS_API_KEY).",
        Recursive = true,
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("MAAS_API_KEY"),
    };

    public Option<string> Transport { get; } = new("--transport")
    {
        Description = "http, or grpc for the calls the gRPC service has (metadata, infer, index, load/unload, stats); the rest stay on HTTP.",
        Recursive = true,
        DefaultValueFactory = _ => "http",
    };

    public Option<string> GrpcUrl { get; } = new("--grpc-url")
    {
        Description = "The server's gRPC address, with --transport grpc (env MAAS_GRPC_URL).",
        Recursive = true,
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("MAAS_GRPC_URL") is { Length: > 0 } url ? url : "http://localhost:8001",
    };

    public Option<string> Output { get; } = new("--output", "-o")
    {
        Description = "table (for people) or json (for scripts).",
        Recursive = true,
        DefaultValueFactory = _ => "table",
    };

    public void AddTo(RootCommand root)
    {
        Output.AcceptOnlyFromAmong("table", "json");
        Transport.AcceptOnlyFromAmong("http", "grpc");
        root.Options.Add(Url);
        root.Options.Add(Transport);
        root.Options.Add(GrpcUrl);
        root.Options.Add(ApiKey);
        root.Options.Add(Output);
    }
}

/// <summary>What a command's body works with.</summary>
internal sealed record CommandContext(IMaaSClient Client, IAnsiConsole Console, TextWriter Output, Stream Input, bool Json, DirectHttp? Direct = null);

/// <summary>The server's HTTP address and key, for a command that opens its own connections (<c>maas bench</c>).</summary>
internal sealed record DirectHttp(Uri BaseAddress, string? ApiKey);
