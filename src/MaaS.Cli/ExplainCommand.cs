using System.CommandLine;
using System.Globalization;
using MaaS.Client;
using Spectre.Console;

namespace MaaS.Cli;

/// <summary>
/// <c>maas explain NAME --input NAME=FILE...</c>: attributions of one output element to the inputs (docs/explain.md),
/// as a table, the server's JSON (<c>--output json</c>), or <c>.npy</c> files (<c>--out DIR</c>).
/// </summary>
internal static class ExplainCommand
{
    public static void Add(RootCommand root, Commands.Wrap wrap)
    {
        var name = new Argument<string>("NAME") { Description = "Model name." };
        var version = new Option<long?>("--version") { Description = "Model version (default: the newest READY)." };
        var label = new Option<string?>("--label") { Description = "The version a label points at." };
        var inputs = new Option<string[]>("--input", "-i") { Description = "INPUT=FILE: a .npy file, a .json nested array, or - for stdin.", Required = true };
        var shapes = new Option<string[]>("--shape") { Description = "INPUT=D,D,...: the shape of an input whose file has none (flat .json)." };
        var method = new Option<string?>("--method") { Description = "shapley, occlusion or tokens (default: chosen by the server from the inputs)." };
        method.AcceptOnlyFromAmong("shapley", "occlusion", "tokens");
        var targetOutput = new Option<string?>("--target-output") { Description = "The output explained (required when the model has several)." };
        var targetIndex = new Option<int?>("--target-index") { Description = "The element of the output's row explained (default: the row's largest)." };
        var baseline = new Option<double?>("--baseline") { Description = "What an absent feature is set to, for every element (default 0)." };
        var samples = new Option<int?>("--samples") { Description = "KernelSHAP coalitions per row." };
        var seed = new Option<int?>("--seed") { Description = "KernelSHAP's random seed." };
        var window = new Option<string?>("--window") { Description = "Occlusion window: one size, or D,D,... per trailing dimension." };
        var stride = new Option<string?>("--stride") { Description = "Occlusion step: one size, or D,D,... per window dimension." };
        var tokenInputs = new Option<string[]>("--token-input") { Description = "tokens: an input holding token ids (repeatable)." };
        var maskInput = new Option<string?>("--mask-input") { Description = "tokens: the attention mask input." };
        var outDirectory = new Option<string?>("--out") { Description = "Write each input's attributions as DIR/INPUT.npy." };
        var command = new Command("explain", "Attribute one output element to the input elements.")
        {
            name, version, label, inputs, shapes, method, targetOutput, targetIndex, baseline, samples, seed, window, stride, tokenInputs, maskInput, outDirectory,
        };
        command.Validators.Add(result =>
        {
            if (result.GetValue(version) is not null && result.GetValue(label) is not null)
            {
                result.AddError("--version and --label exclude each other");
            }
        });
        command.SetAction((parse, ct) => wrap(parse, (context, cancellation) =>
        {
            var modelVersion = parse.GetValue(version) is { } v ? ModelVersion.Of(v) : parse.GetValue(label) is { } l ? ModelVersion.OfLabel(l) : ModelVersion.Latest;
            var options = new ExplainOptions
            {
                Version = modelVersion,
                Method = parse.GetValue(method),
                TargetOutput = parse.GetValue(targetOutput),
                TargetIndex = parse.GetValue(targetIndex),
                Baseline = parse.GetValue(baseline) is { } b ? ExplainBaseline.Constant(b) : null,
                Samples = parse.GetValue(samples),
                Seed = parse.GetValue(seed),
                Window = ParseSizes(parse.GetValue(window), "--window"),
                Stride = ParseSizes(parse.GetValue(stride), "--stride"),
                TokenInputs = parse.GetValue(tokenInputs) is { Length: > 0 } t ? t : null,
                MaskInput = parse.GetValue(maskInput),
            };
            return RunAsync(context, parse.GetValue(name)!, options, parse.GetValue(inputs) ?? [], parse.GetValue(shapes) ?? [], parse.GetValue(outDirectory), cancellation);
        })(ct));
        root.Subcommands.Add(command);
    }

    private static async Task<int> RunAsync(CommandContext context, string model, ExplainOptions options, string[] inputSpecs, string[] shapeSpecs, string? outDirectory, CancellationToken cancellationToken)
    {
        var tensors = await InferCommand.ReadInputsAsync(context, model, options.Version, inputSpecs, shapeSpecs, cancellationToken).ConfigureAwait(false);
        var result = await context.Client.ExplainAsync(model, tensors, options, cancellationToken).ConfigureAwait(false);
        if (outDirectory is not null)
        {
            await InferCommand.WriteNpyAsync(outDirectory, result.Attributions, cancellationToken).ConfigureAwait(false);
        }

        if (context.Json)
        {
            return await Commands.WriteJsonAsync(context, result.Json).ConfigureAwait(false);
        }

        var summary = new Table().AddColumns("", "");
        summary.AddRow("model", Markup.Escape($"{result.ModelName} version {result.ModelVersion}"));
        summary.AddRow("method", Markup.Escape(result.Method + (result.Estimator is null ? "" : $" ({result.Estimator}{(result.Samples is { } s ? $", {s} samples" : "")})")));
        summary.AddRow("target", Markup.Escape($"{result.TargetOutput} [{string.Join(", ", result.TargetIndex)}]"));
        summary.AddRow("prediction", Numbers(result.Prediction));
        summary.AddRow("baseline prediction", Numbers(result.BaselinePrediction));
        summary.AddRow("evaluations", result.Evaluations.ToString(CultureInfo.InvariantCulture));
        if (result.HeldFixed.Count > 0)
        {
            summary.AddRow("held fixed", Markup.Escape(string.Join(", ", result.HeldFixed)));
        }

        context.Console.Write(summary);
        var table = new Table().AddColumns("input", "shape", "sum", "attributions");
        foreach (var attribution in result.Attributions)
        {
            var values = attribution.AsSpan<float>();
            double sum = 0;
            foreach (var value in values)
            {
                sum += value;
            }

            table.AddRow(Markup.Escape(attribution.Name), Markup.Escape("[" + string.Join(", ", attribution.Shape) + "]"),
                sum.ToString("G6", CultureInfo.InvariantCulture), Markup.Escape(InferCommand.Preview(attribution)));
        }

        context.Console.Write(table);
        if (outDirectory is not null)
        {
            context.Console.WriteLine($"written to {outDirectory}");
        }

        return CliApp.Success;
    }

    private static string Numbers(IReadOnlyList<double> values) =>
        Markup.Escape("[" + string.Join(", ", values.Select(v => v.ToString("G6", CultureInfo.InvariantCulture))) + "]");

    private static int[]? ParseSizes(string? value, string option)
    {
        if (value is null)
        {
            return null;
        }

        var sizes = value.Split(',', StringSplitOptions.TrimEntries).Select(d => int.TryParse(d, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0 ? n : -1).ToArray();
        return sizes.Any(s => s < 0) ? throw new UsageException($"{option} '{value}': expected positive integers separated by commas") : sizes;
    }
}
