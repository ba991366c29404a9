using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using MaaS.Client;
using Spectre.Console;

namespace MaaS.Cli;

/// <summary><c>maas infer NAME --input NAME=FILE...</c>: inputs from .npy, .json (nested arrays) or stdin (<c>-</c>).</summary>
internal static class InferCommand
{
    private const int PreviewElements = 16;

    public static void Add(RootCommand root, Commands.Wrap wrap)
    {
        var name = new Argument<string>("NAME") { Description = "Model name." };
        var version = new Option<long?>("--version") { Description = "Model version (default: the newest READY)." };
        var label = new Option<string?>("--label") { Description = "The version a label points at." };
        var inputs = new Option<string[]>("--input", "-i") { Description = "INPUT=FILE: a .npy file, a .json nested array, or - for stdin.", Required = true };
        var shapes = new Option<string[]>("--shape") { Description = "INPUT=D,D,...: the shape of an input whose file has none (flat .json)." };
        var outDirectory = new Option<string?>("--out") { Description = "Write each output as DIR/OUTPUT.npy." };
        var json = new Option<bool>("--json-tensors") { Description = "Send and receive tensors as JSON instead of the binary extension." };
        var command = new Command("infer", "Run an inference.") { name, version, label, inputs, shapes, outDirectory, json };
        command.Validators.Add(result =>
        {
            if (result.GetValue(version) is not null && result.GetValue(label) is not null)
            {
                result.AddError("--version and --label exclude each other");
            }
        });
        command.SetAction((parse, ct) => wrap(parse, (context, cancellation) => RunAsync(
            context,
            parse.GetValue(name)!,
            parse.GetValue(version) is { } v ? ModelVersion.Of(v) : parse.GetValue(label) is { } l ? ModelVersion.OfLabel(l) : ModelVersion.Latest,
            parse.GetValue(inputs) ?? [],
            parse.GetValue(shapes) ?? [],
            parse.GetValue(outDirectory),
            !parse.GetValue(json),
            cancellation))(ct));
        root.Subcommands.Add(command);
    }

    private static async Task<int> RunAsync(CommandContext context, string model, ModelVersion version, string[] inputSpecs, string[] shapeSpecs, string? outDirectory, bool binary, CancellationToken cancellationToken)
    {
        var tensors = await ReadInputsAsync(context, model, version, inputSpecs, shapeSpecs, cancellationToken).ConfigureAwait(false);
        var result = await context.Client.InferAsync(model, tensors, new InferOptions { Version = version, Binary = binary }, cancellationToken).ConfigureAwait(false);
        if (outDirectory is not null)
        {
            await WriteNpyAsync(outDirectory, result.Outputs, cancellationToken).ConfigureAwait(false);
        }

        if (context.Json)
        {
            return await Commands.WriteJsonAsync(context, ToJson(result)).ConfigureAwait(false);
        }

        var table = new Table().AddColumns("output", "datatype", "shape", "values");
        foreach (var output in result.Outputs)
        {
            table.AddRow(Markup.Escape(output.Name), output.Datatype, Markup.Escape("[" + string.Join(", ", output.Shape) + "]"), Markup.Escape(Preview(output)));
        }

        context.Console.WriteLine($"{result.ModelName} version {result.ModelVersion}");
        context.Console.Write(table);
        if (outDirectory is not null)
        {
            context.Console.WriteLine($"written to {outDirectory}");
        }

        return CliApp.Success;
    }

    /// <summary>
    /// The tensors of <c>--input NAME=FILE</c> and <c>--shape NAME=D,...</c>, typed by the model's metadata. Every file
    /// is read before the server is asked anything: a bad file is a usage error whatever the server says.
    /// </summary>
    internal static async Task<List<InferInput>> ReadInputsAsync(CommandContext context, string model, ModelVersion version, string[] inputSpecs, string[] shapeSpecs, CancellationToken cancellationToken)
    {
        var shapes = shapeSpecs.Select(s => Split(s, "--shape")).ToDictionary(p => p.Name, p => ParseShape(p.Value), StringComparer.Ordinal);
        var files = inputSpecs.Select(s => Split(s, "--input")).ToList();
        var contents = new List<(string Name, string File, byte[] Bytes)>();
        foreach (var (inputName, file) in files)
        {
            contents.Add((inputName, file, await ReadAsync(context, file, cancellationToken).ConfigureAwait(false)));
        }

        var metadata = await context.Client.GetModelMetadataAsync(model, version, cancellationToken).ConfigureAwait(false);
        var tensors = new List<InferInput>();
        foreach (var (inputName, file, bytes) in contents)
        {
            var spec = metadata.Inputs.FirstOrDefault(i => i.Name == inputName)
                ?? throw new UsageException($"model '{model}' has no input '{inputName}' (it has: {string.Join(", ", metadata.Inputs.Select(i => i.Name))})");
            tensors.Add(ToInput(spec, file, bytes, shapes.GetValueOrDefault(inputName)));
        }

        return tensors;
    }

    /// <summary>Writes each tensor as DIR/NAME.npy.</summary>
    internal static async Task WriteNpyAsync(string directory, IEnumerable<InferOutput> tensors, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(directory);
        foreach (var tensor in tensors)
        {
            await File.WriteAllBytesAsync(Path.Combine(directory, tensor.Name + ".npy"), NpyFile.Write(tensor), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The first elements of a tensor as JSON values (NaN and infinities as the server writes them), "..." when there are more.</summary>
    internal static string Preview(InferOutput output, int elements = PreviewElements)
    {
        var data = output.Data.Span;
        var size = Datatypes.ElementSize(output.Datatype);
        var shown = (int)Math.Min(elements, output.ElementCount);
        int length;
        if (size > 0)
        {
            length = shown * size;
        }
        else
        {
            length = 0;
            for (var i = 0; i < shown; i++)
            {
                length += 4 + System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(data[length..]);
            }
        }

        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            TensorLayout.WriteJson(writer, output.Datatype, data[..length]);
        }

        var text = Encoding.UTF8.GetString(buffer.ToArray());
        if (size > 0)
        {
            text = text.Replace(",", ", ", StringComparison.Ordinal);
        }

        return output.ElementCount > shown ? text[..^1] + ", ...]" : text;
    }

    /// <summary>The V2 JSON response, outputs as JSON <c>data</c>, whatever form they travelled in.</summary>
    internal static string ToJson(InferResult result)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            if (result.Id is not null)
            {
                writer.WriteString("id", result.Id);
            }

            writer.WriteString("model_name", result.ModelName);
            writer.WriteString("model_version", result.ModelVersion);
            writer.WriteStartArray("outputs");
            foreach (var output in result.Outputs)
            {
                writer.WriteStartObject();
                writer.WriteString("name", output.Name);
                writer.WriteString("datatype", output.Datatype);
                writer.WriteStartArray("shape");
                foreach (var dim in output.Shape)
                {
                    writer.WriteNumberValue(dim);
                }

                writer.WriteEndArray();
                writer.WritePropertyName("data");
                TensorLayout.WriteJson(writer, output.Datatype, output.Data.Span);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static async Task<byte[]> ReadAsync(CommandContext context, string file, CancellationToken cancellationToken)
    {
        if (file == "-")
        {
            using var buffer = new MemoryStream();
            await context.Input.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
            return buffer.ToArray();
        }

        try
        {
            return await File.ReadAllBytesAsync(file, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            throw new UsageException($"cannot read '{file}': {e.Message}");
        }
    }

    private static InferInput ToInput(TensorMetadata spec, string file, byte[] bytes, long[]? shape)
    {
        try
        {
            if (NpyFile.IsNpy(bytes))
            {
                var (datatype, fileShape, data) = NpyFile.Read(bytes, file);
                return InferInput.FromRaw(spec.Name, datatype, data, shape ?? fileShape);
            }

            using var document = JsonDocument.Parse(bytes);
            var root = document.RootElement;
            var nested = shape ?? NestedShape(root, file);
            var values = TensorLayout.ReadJson(root, spec.Datatype, InferInput.ElementCount(nested));
            return InferInput.FromRaw(spec.Name, spec.Datatype, values, nested);
        }
        catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException or ArgumentException or OverflowException)
        {
            throw new UsageException($"input '{spec.Name}' from '{file}': {e.Message}");
        }
    }

    private static long[] NestedShape(JsonElement element, string file)
    {
        var shape = new List<long>();
        var level = element;
        while (level.ValueKind == JsonValueKind.Array)
        {
            shape.Add(level.GetArrayLength());
            if (level.GetArrayLength() == 0)
            {
                break;
            }

            level = level[0];
        }

        if (shape.Count == 0)
        {
            throw new UsageException($"'{file}': a JSON input is a (nested) array");
        }

        return [.. shape];
    }

    internal static (string Name, string Value) Split(string spec, string option)
    {
        var at = spec.IndexOf('=', StringComparison.Ordinal);
        if (at <= 0 || at == spec.Length - 1)
        {
            throw new UsageException($"{option} '{spec}': expected NAME=VALUE");
        }

        return (spec[..at], spec[(at + 1)..]);
    }

    private static long[] ParseShape(string value)
    {
        try
        {
            return value.Split(',', StringSplitOptions.TrimEntries).Select(d => long.Parse(d, NumberStyles.None, CultureInfo.InvariantCulture)).ToArray();
        }
        catch (FormatException)
        {
            throw new UsageException($"--shape '{value}': expected non-negative integers separated by commas");
        }
    }
}
