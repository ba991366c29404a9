using System.CommandLine;
using System.Globalization;
using MaaS.Client;
using Spectre.Console;

namespace MaaS.Cli;

/// <summary><c>maas embed NAME TEXT...</c>: embeddings of texts by a text-embedding pipeline model (<c>/v1/embeddings</c>).</summary>
internal static class EmbedCommand
{
    private const int PreviewValues = 8;

    public static void Add(RootCommand root, Commands.Wrap wrap)
    {
        var name = new Argument<string>("NAME") { Description = "A text-embedding (pipeline) model." };
        var texts = new Argument<string[]>("TEXT") { Description = "The texts, one embedding each.", Arity = ArgumentArity.OneOrMore };
        var base64 = new Option<bool>("--base64") { Description = "Ask for base64 vectors (with --output json, the answer stays base64)." };
        var command = new Command("embed", "Embed texts.") { name, texts, base64 };
        command.SetAction((parse, ct) => wrap(parse, (context, cancellation) =>
            RunAsync(context, parse.GetValue(name)!, parse.GetValue(texts) ?? [], parse.GetValue(base64) ? EmbeddingEncoding.Base64 : EmbeddingEncoding.Float, cancellation))(ct));
        root.Subcommands.Add(command);
    }

    private static async Task<int> RunAsync(CommandContext context, string model, string[] texts, EmbeddingEncoding encoding, CancellationToken cancellationToken)
    {
        var result = await context.Client.EmbedAsync(model, texts, encoding, cancellationToken).ConfigureAwait(false);
        if (context.Json)
        {
            return await Commands.WriteJsonAsync(context, result.Json).ConfigureAwait(false);
        }

        var table = new Table().AddColumns("#", "text", "dims", "first values");
        foreach (var embedding in result.Data)
        {
            var vector = embedding.Vector.Span;
            var shown = vector[..Math.Min(PreviewValues, vector.Length)].ToArray().Select(v => v.ToString("0.####", CultureInfo.InvariantCulture));
            table.AddRow(
                embedding.Index.ToString(CultureInfo.InvariantCulture),
                Markup.Escape(embedding.Index < texts.Length ? Shorten(texts[embedding.Index]) : ""),
                vector.Length.ToString(CultureInfo.InvariantCulture),
                Markup.Escape("[" + string.Join(", ", shown) + (vector.Length > PreviewValues ? ", ..." : "") + "]"));
        }

        context.Console.WriteLine($"{result.Model}: {result.Data.Count} embeddings, {result.PromptTokens} tokens");
        context.Console.Write(table);
        return CliApp.Success;
    }

    private static string Shorten(string text) => text.Length <= 40 ? text : text[..37] + "...";
}
