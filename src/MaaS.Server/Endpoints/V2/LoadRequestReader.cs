using System.Globalization;
using System.Text;
using System.Text.Json;
using MaaS.Core;
using MaaS.Core.Repository;

namespace MaaS.Server.Endpoints.V2;

/// <summary>
/// Reads Triton's load request <c>{"parameters": {"config": "...", "file:&lt;v&gt;/model.onnx": "&lt;base64&gt;"}}</c>
/// from the body as it arrives: the JSON with <see cref="Utf8JsonReader"/>, and each file's base64 decoded straight
/// into a staged file (hashed as it is written). Memory stays at a few chunks however large the files are.
/// </summary>
internal sealed class LoadRequestReader
{
    /// <summary>
    /// After a file's value has been read by hand, the JSON reader starts afresh on this prefix and the rest of the
    /// body: the same place in the same structure (inside "parameters", after a value). Its tokens are skipped.
    /// </summary>
    private static readonly byte[] ResumePrefix = "{\"parameters\":{\"\":\"\""u8.ToArray();
    private const int ResumeTokens = 5;

    private readonly LoadRequestBuffer _body;
    private readonly Func<Stream, CancellationToken, Task<StagedFile>> _stage;
    private readonly Dictionary<long, StagedFile> _files = [];
    private byte[]? _config;

    private LoadRequestReader(LoadRequestBuffer body, Func<Stream, CancellationToken, Task<StagedFile>> stage)
    {
        _body = body;
        _stage = stage;
    }

    /// <summary>
    /// The config's bytes (null without one) and the staged files by version; the caller disposes the files.
    /// <paramref name="stage"/> stages one file's decoded bytes (and enforces the model size limit).
    /// </summary>
    public static async Task<(byte[]? Config, Dictionary<long, StagedFile> Files)> ReadAsync(
        Stream body, int maxValueBytes, Func<Stream, CancellationToken, Task<StagedFile>> stage, CancellationToken cancellationToken)
    {
        var reader = new LoadRequestReader(new LoadRequestBuffer(body, maxValueBytes), stage);
        try
        {
            await reader.ReadAllAsync(cancellationToken);
            return (reader._config, reader._files);
        }
        catch
        {
            foreach (var file in reader._files.Values)
            {
                file.Dispose();
            }

            throw;
        }
    }

    private async Task ReadAllAsync(CancellationToken cancellationToken)
    {
        await _body.FillAsync(0, cancellationToken);
        if (IsBlank(_body.Pending) && _body.Eof)
        {
            return;
        }

        var scan = new Scan();
        var state = new JsonReaderState();
        while (true)
        {
            var file = ReadTokens(ref state, ref scan);
            if (file is not null)
            {
                await StageFileAsync(file, cancellationToken);
                _body.Prepend(ResumePrefix);
                state = new JsonReaderState();
                scan.Skip = ResumeTokens;
                continue;
            }

            if (scan.Done)
            {
                return;
            }

            if (!await _body.FillAsync(0, cancellationToken) && !scan.Done)
            {
                // One last pass as the final block, so an unfinished document is reported as such.
                if (ReadTokens(ref state, ref scan, final: true) is not null || !scan.Done)
                {
                    throw ServingException.Invalid("malformed JSON in load request: it ends early");
                }

                return;
            }
        }
    }

    /// <summary>Reads the complete tokens pending; returns the parameter name when a file's value comes next.</summary>
    private string? ReadTokens(ref JsonReaderState state, ref Scan scan, bool final = false)
    {
        var reader = new Utf8JsonReader(_body.Pending, final || _body.Eof, state);
        try
        {
            while (reader.Read())
            {
                var file = scan.Token(ref reader, this);
                if (file is not null)
                {
                    _body.Start += (int)reader.BytesConsumed;
                    return file;
                }

                if (scan.Done)
                {
                    break;
                }
            }
        }
        catch (JsonException ex)
        {
            throw new ServingException(FailureKind.InvalidInput, $"malformed JSON in load request: {ex.Message}", ex);
        }

        _body.Start += (int)reader.BytesConsumed;
        state = reader.CurrentState;
        return null;
    }

    private async Task StageFileAsync(string parameter, CancellationToken cancellationToken)
    {
        var version = ParseFileName(parameter);
        await using var content = new Base64StringStream(_body, parameter);
        await content.OpenAsync(cancellationToken);
        var staged = await _stage(content, cancellationToken);
        if (_files.Remove(version, out var earlier))
        {
            earlier.Dispose();
        }

        _files[version] = staged;

        // The stager stops at the end of the data it wants; the value must still be read to its closing quote.
        var rest = new byte[4096];
        while (await content.ReadAsync(rest, cancellationToken) > 0)
        {
        }
    }

    internal static long ParseFileName(string name)
    {
        // "file:<version>/model.onnx": the version's model file, base64-encoded.
        var path = name["file:".Length..].Split('/');
        return path.Length == 2 && path[1] == "model.onnx"
            && long.TryParse(path[0], NumberStyles.None, CultureInfo.InvariantCulture, out var version) && version >= 1
            ? version
            : throw ServingException.Invalid($"load parameter '{name}' must name 'file:<version>/model.onnx' with a positive version");
    }

    private static bool IsBlank(ReadOnlySpan<byte> text) => text.Trim(" \t\r\n"u8).IsEmpty;

    /// <summary>Where the reader is in the document: which tokens mean what.</summary>
    private struct Scan
    {
        private bool _inParameters;
        private string? _parameter;
        private bool _expectParameters;

        public int Skip { get; set; }

        public bool Done { get; private set; }

        /// <summary>Handles one token; returns a file parameter's name when its value is to be read by hand.</summary>
        public string? Token(ref Utf8JsonReader reader, LoadRequestReader owner)
        {
            if (Skip > 0)
            {
                Skip--;
                _inParameters = true;
                return null;
            }

            var depth = reader.CurrentDepth;
            switch (reader.TokenType)
            {
                case JsonTokenType.StartObject when depth == 0:
                    return null;
                case JsonTokenType.EndObject when depth == 0:
                    Done = true;
                    return null;
                case JsonTokenType.PropertyName when depth == 1 && !_inParameters:
                    _expectParameters = reader.ValueTextEquals("parameters"u8);
                    return null;
                case JsonTokenType.StartObject when depth == 1 && _expectParameters:
                    _expectParameters = false;
                    _inParameters = true;
                    return null;
                case JsonTokenType.EndObject when depth == 1 && _inParameters:
                    _inParameters = false;
                    return null;
                case JsonTokenType.PropertyName when depth == 2 && _inParameters:
                    _parameter = reader.GetString()!;
                    if (_parameter.StartsWith("file:", StringComparison.Ordinal))
                    {
                        return _parameter;
                    }

                    return _parameter == "config"
                        ? null
                        : throw ServingException.Invalid($"unsupported load parameter '{_parameter}'; expected \"config\" and \"file:<version>/model.onnx\"");
                case JsonTokenType.String when depth == 2 && _inParameters:
                    owner._config = Encoding.UTF8.GetBytes(reader.GetString()!);
                    return null;
                case JsonTokenType.StartObject or JsonTokenType.StartArray or JsonTokenType.Number or JsonTokenType.True or JsonTokenType.False or JsonTokenType.Null
                    when depth == 2 && _inParameters:
                    throw ServingException.Invalid($"load parameter '{_parameter}' must be a string");
                case JsonTokenType.StartArray or JsonTokenType.String or JsonTokenType.Number or JsonTokenType.True or JsonTokenType.False or JsonTokenType.Null
                    when depth == 0:
                    throw ServingException.Invalid("load request must be a JSON object such as {\"parameters\": {...}}");
                case not JsonTokenType.StartObject when depth == 1 && _expectParameters:
                    throw ServingException.Invalid("\"parameters\" must be an object");
                default:
                    // Other top-level members, and what is nested in them: not ours, passed over.
                    return null;
            }
        }
    }
}
