using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using MaaS.Client;
using Spectre.Console;

namespace MaaS.Cli;

/// <summary>The commands: each parses its arguments, calls the client and prints a table or JSON.</summary>
internal static class Commands
{
    public delegate Func<CancellationToken, Task<int>> Wrap(ParseResult parse, Func<CommandContext, CancellationToken, Task<int>> run);

    public static void Add(RootCommand root, GlobalOptions globals, Wrap wrap)
    {
        _ = globals;
        var name = () => new Argument<string>("NAME") { Description = "Model name." };

        var models = new Command("models", "The repository index: every model version with its state.");
        models.SetAction((parse, ct) => wrap(parse, ListModelsAsync)(ct));
        root.Subcommands.Add(models);

        var modelName = name();
        var model = new Command("model", "A model's metadata, versions, labels and config.") { modelName };
        model.SetAction((parse, ct) => wrap(parse, (c, t) => ShowModelAsync(c, parse.GetValue(modelName)!, t))(ct));
        root.Subcommands.Add(model);

        var uploadName = name();
        var uploadFile = new Argument<string>("FILE") { Description = "The model.onnx to upload." };
        var uploadLabel = new Option<string?>("--label") { Description = "Point this label at the new version." };
        var uploadVersion = new Option<long?>("--version") { Description = "Version number (default: the next one)." };
        var upload = new Command("upload", "Upload a model.onnx as a new version.") { uploadName, uploadFile, uploadLabel, uploadVersion };
        upload.SetAction((parse, ct) => wrap(parse, (c, t) => UploadAsync(c, parse.GetValue(uploadName)!, parse.GetValue(uploadFile)!, parse.GetValue(uploadLabel), parse.GetValue(uploadVersion), t))(ct));
        root.Subcommands.Add(upload);

        var labelName = name();
        var labelLabel = new Argument<string>("LABEL");
        var labelVersion = new Argument<long>("VERSION");
        var label = new Command("label", "Point a label at a version.") { labelName, labelLabel, labelVersion };
        label.SetAction((parse, ct) => wrap(parse, (c, t) => DoneAsync(c, () => c.Client.SetLabelAsync(parse.GetValue(labelName)!, parse.GetValue(labelLabel)!, parse.GetValue(labelVersion), t), $"{parse.GetValue(labelLabel)} -> version {parse.GetValue(labelVersion)}"))(ct));
        root.Subcommands.Add(label);

        var deleteName = name();
        var deleteVersion = new Argument<long>("VERSION");
        var delete = new Command("delete", "Unload and delete a version.") { deleteName, deleteVersion };
        delete.SetAction((parse, ct) => wrap(parse, (c, t) => DoneAsync(c, () => c.Client.DeleteVersionAsync(parse.GetValue(deleteName)!, parse.GetValue(deleteVersion), t), $"deleted version {parse.GetValue(deleteVersion)}"))(ct));
        root.Subcommands.Add(delete);

        var loadName = name();
        var load = new Command("load", "Load (or reload) a model from the repository.") { loadName };
        load.SetAction((parse, ct) => wrap(parse, (c, t) => DoneAsync(c, () => c.Client.LoadModelAsync(parse.GetValue(loadName)!, t), "loaded"))(ct));
        root.Subcommands.Add(load);

        var unloadName = name();
        var unload = new Command("unload", "Stop serving a model (until the next load or restart).") { unloadName };
        unload.SetAction((parse, ct) => wrap(parse, (c, t) => DoneAsync(c, () => c.Client.UnloadModelAsync(parse.GetValue(unloadName)!, t), "unloaded"))(ct));
        root.Subcommands.Add(unload);

        var statsName = new Argument<string?>("NAME") { Description = "Model name (default: every model).", Arity = ArgumentArity.ZeroOrOne };
        var stats = new Command("stats", "Inference statistics: counts, mean queue and compute times, batch sizes.") { statsName };
        stats.SetAction((parse, ct) => wrap(parse, (c, t) => StatsAsync(c, parse.GetValue(statsName), t))(ct));
        root.Subcommands.Add(stats);

        var optimizeName = name();
        var optimizeVersion = new Argument<long>("VERSION");
        var optimizeMethod = new Option<string>("--method") { Description = "int8, fp16 or graph.", DefaultValueFactory = _ => "graph" };
        optimizeMethod.AcceptOnlyFromAmong("int8", "fp16", "graph");
        var optimizeLabel = new Option<string?>("--label") { Description = "Label the optimised version." };
        var optimize = new Command("optimize", "Derive an optimised version and show its report.") { optimizeName, optimizeVersion, optimizeMethod, optimizeLabel };
        optimize.SetAction((parse, ct) => wrap(parse, (c, t) => OptimizeAsync(c, parse.GetValue(optimizeName)!, parse.GetValue(optimizeVersion), new OptimizeRequest(parse.GetValue(optimizeMethod)!, parse.GetValue(optimizeLabel)), t))(ct));
        root.Subcommands.Add(optimize);

        InferCommand.Add(root, wrap);
        ExplainCommand.Add(root, wrap);
        EmbedCommand.Add(root, wrap);
        BenchCommand.Add(root, wrap);
    }

    private static async Task<int> ListModelsAsync(CommandContext context, CancellationToken cancellationToken)
    {
        var index = await context.Client.GetRepositoryIndexAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        if (context.Json)
        {
            return await WriteJsonAsync(context, JsonSerializer.Serialize(index.ToList(), ClientJsonContext.Default.ListRepositoryIndexEntry)).ConfigureAwait(false);
        }

        var table = new Table().AddColumns("model", "version", "state", "reason");
        foreach (var entry in index)
        {
            table.AddRow(Markup.Escape(entry.Name), Markup.Escape(entry.Version ?? ""), Markup.Escape(entry.State ?? ""), Markup.Escape(entry.Reason ?? ""));
        }

        context.Console.Write(table);
        return CliApp.Success;
    }

    private static async Task<int> ShowModelAsync(CommandContext context, string name, CancellationToken cancellationToken)
    {
        var view = await context.Client.GetModelViewAsync(name, cancellationToken).ConfigureAwait(false);
        ModelMetadata? metadata = null;
        if (await context.Client.IsModelReadyAsync(name, cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            metadata = await context.Client.GetModelMetadataAsync(name, cancellationToken: cancellationToken).ConfigureAwait(false);
        }

        if (context.Json)
        {
            var metadataJson = metadata is null ? "null" : JsonSerializer.Serialize(metadata, ClientJsonContext.Default.ModelMetadata);
            var viewJson = JsonSerializer.Serialize(view, ClientJsonContext.Default.ModelView);
            return await WriteJsonAsync(context, $"{{\"metadata\": {metadataJson}, \"registry\": {viewJson}}}").ConfigureAwait(false);
        }

        if (metadata is not null)
        {
            var tensors = new Table().AddColumns("", "name", "datatype", "shape");
            foreach (var (kind, list) in new[] { ("input", metadata.Inputs), ("output", metadata.Outputs) })
            {
                foreach (var tensor in list)
                {
                    tensors.AddRow(kind, Markup.Escape(tensor.Name), tensor.Datatype, Markup.Escape("[" + string.Join(", ", tensor.Shape) + "]"));
                }
            }

            context.Console.Write(tensors);
        }

        var versions = new Table().AddColumns("version", "state", "reason", "labels", "size", "sha256");
        foreach (var version in view.Versions)
        {
            versions.AddRow(
                Markup.Escape(version.Version), Markup.Escape(version.State), Markup.Escape(version.Reason ?? ""),
                Markup.Escape(string.Join(", ", version.Labels ?? [])),
                version.SizeBytes?.ToString(CultureInfo.InvariantCulture) ?? "", Markup.Escape(version.Sha256 ?? ""));
        }

        context.Console.Write(versions);
        if (view.Config is { } config)
        {
            context.Console.WriteLine(config.GetRawText());
        }

        return CliApp.Success;
    }

    private static async Task<int> UploadAsync(CommandContext context, string name, string path, string? label, long? version, CancellationToken cancellationToken)
    {
        FileStream file;
        try
        {
            file = File.OpenRead(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            throw new UsageException($"cannot read '{path}': {e.Message}");
        }

        UploadResult result;
        await using (file.ConfigureAwait(false))
        {
            if (context.Console.Profile.Capabilities.Interactive && !context.Json)
            {
                result = await context.Console.Progress().StartAsync(async progress =>
                {
                    var task = progress.AddTask("upload " + Markup.Escape(name), maxValue: Math.Max(1, file.Length));
                    return await context.Client.UploadVersionAsync(name, file, version, new Progress<long>(sent => task.Value = sent), cancellationToken).ConfigureAwait(false);
                }).ConfigureAwait(false);
            }
            else
            {
                result = await context.Client.UploadVersionAsync(name, file, version, null, cancellationToken).ConfigureAwait(false);
            }
        }

        if (label is not null)
        {
            await context.Client.SetLabelAsync(name, label, result.Version, cancellationToken).ConfigureAwait(false);
        }

        if (context.Json)
        {
            return await WriteJsonAsync(context, JsonSerializer.Serialize(result, ClientJsonContext.Default.UploadResult)).ConfigureAwait(false);
        }

        context.Console.WriteLine($"{result.Name} version {result.Version} {result.State} ({result.SizeBytes} bytes, sha256 {result.Sha256})" + (label is null ? "" : $", label {label}"));
        return CliApp.Success;
    }

    private static async Task<int> DoneAsync(CommandContext context, Func<Task> call, string message)
    {
        await call().ConfigureAwait(false);
        if (context.Json)
        {
            return await WriteJsonAsync(context, "{}").ConfigureAwait(false);
        }

        context.Console.WriteLine(message);
        return CliApp.Success;
    }

    private static async Task<int> StatsAsync(CommandContext context, string? name, CancellationToken cancellationToken)
    {
        var stats = await context.Client.GetStatisticsAsync(name, cancellationToken: cancellationToken).ConfigureAwait(false);
        if (context.Json)
        {
            return await WriteJsonAsync(context, JsonSerializer.Serialize(stats, ClientJsonContext.Default.ModelStatisticsResponse)).ConfigureAwait(false);
        }

        var table = new Table().AddColumns("model", "version", "success", "fail", "mean queue ms", "mean compute ms", "batch sizes");
        foreach (var model in stats.ModelStats)
        {
            var inference = model.InferenceStats;
            var batches = string.Join(", ", (model.BatchStats ?? []).Select(b => $"{b.BatchSize}x{b.ComputeInfer.Count}"));
            table.AddRow(Markup.Escape(model.Name), Markup.Escape(model.Version), inference.Success.Count.ToString(CultureInfo.InvariantCulture),
                inference.Fail.Count.ToString(CultureInfo.InvariantCulture), MeanMs(inference.Queue), MeanMs(inference.ComputeInfer), Markup.Escape(batches));
        }

        context.Console.Write(table);
        return CliApp.Success;
    }

    private static async Task<int> OptimizeAsync(CommandContext context, string name, long version, OptimizeRequest request, CancellationToken cancellationToken)
    {
        var typed = await context.Client.OptimizeAsync(name, version, request, cancellationToken).ConfigureAwait(false);
        var json = JsonSerializer.Serialize(typed, ClientJsonContext.Default.OptimizeReport);
        if (context.Json)
        {
            return await WriteJsonAsync(context, json).ConfigureAwait(false);
        }

        using var document = JsonDocument.Parse(json);
        var report = document.RootElement;

        var table = new Table().AddColumns("field", "value");
        foreach (var property in report.EnumerateObject())
        {
            table.AddRow(Markup.Escape(property.Name), Markup.Escape(property.Value.ValueKind == JsonValueKind.String ? property.Value.GetString()! : property.Value.GetRawText()));
        }

        context.Console.Write(table);
        return CliApp.Success;
    }

    internal static async Task<int> WriteJsonAsync(CommandContext context, string json)
    {
        await context.Output.WriteLineAsync(json).ConfigureAwait(false);
        return CliApp.Success;
    }

    private static string MeanMs(StatisticDuration duration) =>
        duration.Count == 0 ? "-" : duration.MeanMilliseconds.ToString("0.###", CultureInfo.InvariantCulture);
}
