using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace MaaS.Client;

/// <summary>
/// The server over HTTP. Register it with <c>services.AddMaaSClient(...)</c> (retries, API key, validated options), or
/// construct it over an <see cref="HttpClient"/> whose <see cref="HttpClient.BaseAddress"/> is the server.
/// </summary>
public sealed class MaaSClient(HttpClient http) : IMaaSClient
{
    private const string HeaderLengthName = "Inference-Header-Content-Length";

    /// <summary>Marks a request that changes the registry: retried only when the server refused it with 503.</summary>
    internal static readonly HttpRequestOptionsKey<RetryPolicy> RetryKey = new("MaaS.Retry");

    public async Task<bool> IsLiveAsync(CancellationToken cancellationToken = default) =>
        await GetStatusAsync("v2/health/live", cancellationToken).ConfigureAwait(false);

    public async Task<bool> IsReadyAsync(CancellationToken cancellationToken = default) =>
        await GetStatusAsync("v2/health/ready", cancellationToken).ConfigureAwait(false);

    public Task<ServerMetadata> GetServerMetadataAsync(CancellationToken cancellationToken = default) =>
        SendAsync(new HttpRequestMessage(HttpMethod.Get, "v2"), ClientJsonContext.Default.ServerMetadata, cancellationToken);

    public Task<ModelMetadata> GetModelMetadataAsync(string model, ModelVersion version = default, CancellationToken cancellationToken = default) =>
        SendAsync(new HttpRequestMessage(HttpMethod.Get, ModelPath(model, version)), ClientJsonContext.Default.ModelMetadata, cancellationToken);

    public async Task<bool> IsModelReadyAsync(string model, ModelVersion version = default, CancellationToken cancellationToken = default)
    {
        using var response = await SendRawAsync(new HttpRequestMessage(HttpMethod.Get, ModelPath(model, version) + "/ready"), cancellationToken).ConfigureAwait(false);
        if (response.StatusCode is HttpStatusCode.OK or HttpStatusCode.BadRequest or HttpStatusCode.ServiceUnavailable)
        {
            return response.StatusCode == HttpStatusCode.OK;
        }

        throw await ToExceptionAsync(response, cancellationToken).ConfigureAwait(false);
    }

    public Task<ModelConfig> GetModelConfigAsync(string model, ModelVersion version = default, CancellationToken cancellationToken = default) =>
        SendAsync(new HttpRequestMessage(HttpMethod.Get, ModelPath(model, version) + "/config"), ClientJsonContext.Default.ModelConfig, cancellationToken);

    public async Task<IReadOnlyList<RepositoryIndexEntry>> GetRepositoryIndexAsync(bool readyOnly = false, CancellationToken cancellationToken = default)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "v2/repository/index")
        {
            Content = new StringContent(readyOnly ? "{\"ready\": true}" : "{}", Encoding.UTF8, "application/json"),
        };
        return await SendAsync(request, ClientJsonContext.Default.ListRepositoryIndexEntry, cancellationToken).ConfigureAwait(false);
    }

    public async Task<InferResult> InferAsync(string model, IReadOnlyList<InferInput> inputs, InferOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new InferOptions();
        if (!options.Binary && options.Outputs is null)
        {
            // JSON cannot carry FP16/BF16: such outputs are asked for as binary, which needs their names.
            var metadata = await GetModelMetadataAsync(model, options.Version, cancellationToken).ConfigureAwait(false);
            if (metadata.Outputs.Any(o => !TensorLayout.HasJsonForm(o.Datatype)))
            {
                options = options with
                {
                    Outputs = metadata.Outputs.Select(o => new RequestedOutput(o.Name, Binary: TensorLayout.HasJsonForm(o.Datatype) ? null : true)).ToList(),
                };
            }
        }

        var request = new HttpRequestMessage(HttpMethod.Post, ModelPath(model, options.Version) + "/infer")
        {
            Content = HttpInferCodec.EncodeRequest(inputs, options),
        };
        using var response = await SendRawAsync(request, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw await ToExceptionAsync(response, cancellationToken).ConfigureAwait(false);
        }

        var body = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        var headerLength = body.Length;
        if (response.Headers.TryGetValues(HeaderLengthName, out var values) || response.Content.Headers.TryGetValues(HeaderLengthName, out values))
        {
            headerLength = int.Parse(values.First(), NumberStyles.None, CultureInfo.InvariantCulture);
        }

        return HttpInferCodec.DecodeResponse(body, headerLength);
    }

    public Task<ModelStatisticsResponse> GetStatisticsAsync(string? model = null, ModelVersion version = default, CancellationToken cancellationToken = default) =>
        SendAsync(new HttpRequestMessage(HttpMethod.Get, model is null ? "v2/models/stats" : ModelPath(model, version) + "/stats"), ClientJsonContext.Default.ModelStatisticsResponse, cancellationToken);

    public Task LoadModelAsync(string model, CancellationToken cancellationToken = default) =>
        SendWriteAsync(HttpMethod.Post, RepositoryPath(model) + "/load", new StringContent("{}", Encoding.UTF8, "application/json"), cancellationToken);

    public Task UnloadModelAsync(string model, CancellationToken cancellationToken = default) =>
        SendWriteAsync(HttpMethod.Post, RepositoryPath(model) + "/unload", new StringContent("{}", Encoding.UTF8, "application/json"), cancellationToken);

    public Task<ModelView> GetModelViewAsync(string model, CancellationToken cancellationToken = default) =>
        SendAsync(new HttpRequestMessage(HttpMethod.Get, RepositoryPath(model)), ClientJsonContext.Default.ModelView, cancellationToken);

    public Task<UploadResult> UploadVersionAsync(string model, Stream onnx, long? version = null, IProgress<long>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(onnx);
        var path = RepositoryPath(model) + "/versions" + (version is { } v ? "?version=" + v.ToString(CultureInfo.InvariantCulture) : "");
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new ProgressStreamContent(onnx, progress) };

        // The body is a stream read once, and the version may have been written: never sent twice.
        request.Options.Set(RetryKey, RetryPolicy.Never);
        return SendAsync(request, ClientJsonContext.Default.UploadResult, cancellationToken);
    }

    public Task SetLabelAsync(string model, string label, long version, CancellationToken cancellationToken = default) =>
        SendWriteAsync(HttpMethod.Put, RepositoryPath(model) + "/labels/" + Uri.EscapeDataString(label),
            new StringContent("{\"version\": " + version.ToString(CultureInfo.InvariantCulture) + "}", Encoding.UTF8, "application/json"), cancellationToken);

    public Task RemoveLabelAsync(string model, string label, CancellationToken cancellationToken = default) =>
        SendWriteAsync(HttpMethod.Delete, RepositoryPath(model) + "/labels/" + Uri.EscapeDataString(label), null, cancellationToken);

    public Task ReplaceConfigAsync(string model, string config, string contentType = "application/json", CancellationToken cancellationToken = default) =>
        SendWriteAsync(HttpMethod.Put, RepositoryPath(model) + "/config", new StringContent(config, Encoding.UTF8, contentType), cancellationToken);

    public Task DeleteVersionAsync(string model, long version, CancellationToken cancellationToken = default) =>
        SendWriteAsync(HttpMethod.Delete, RepositoryPath(model) + "/versions/" + version.ToString(CultureInfo.InvariantCulture), null, cancellationToken);

    public Task DeleteModelAsync(string model, CancellationToken cancellationToken = default) =>
        SendWriteAsync(HttpMethod.Delete, RepositoryPath(model), null, cancellationToken);

    public Task<OptimizeReport> OptimizeAsync(string model, long version, OptimizeRequest request, CancellationToken cancellationToken = default)
    {
        var message = new HttpRequestMessage(HttpMethod.Post, RepositoryPath(model) + "/versions/" + version.ToString(CultureInfo.InvariantCulture) + "/optimize")
        {
            Content = new StringContent(JsonSerializer.Serialize(request, ClientJsonContext.Default.OptimizeRequest), Encoding.UTF8, "application/json"),
        };
        message.Options.Set(RetryKey, RetryPolicy.OnlyWhenRefused);
        return SendAsync(message, ClientJsonContext.Default.OptimizeReport, cancellationToken);
    }

    public async Task<EmbeddingsResult> EmbedAsync(string model, IReadOnlyList<string> texts, EmbeddingEncoding encoding = EmbeddingEncoding.Float, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(model);
        ArgumentNullException.ThrowIfNull(texts);
        var body = new EmbeddingsRequest(model, texts, encoding == EmbeddingEncoding.Base64 ? "base64" : "float");
        var request = new HttpRequestMessage(HttpMethod.Post, "v1/embeddings")
        {
            Content = new StringContent(JsonSerializer.Serialize(body, ClientJsonContext.Default.EmbeddingsRequest), Encoding.UTF8, "application/json"),
        };
        return EmbeddingsResult.Parse(await SendForTextAsync(request, cancellationToken).ConfigureAwait(false));
    }

    public async Task<ExplainResult> ExplainAsync(string model, IReadOnlyList<InferInput> inputs, ExplainOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new ExplainOptions();
        var request = new HttpRequestMessage(HttpMethod.Post, ModelPath(model, options.Version) + "/explain")
        {
            // Attributions always come back as JSON data; binary_data_output only keeps the request a V2 one.
            Content = HttpInferCodec.EncodeRequest(inputs, new InferOptions { Binary = options.Binary, Id = options.Id }, options.WriteParameters),
        };
        return ExplainResult.Parse(await SendForTextAsync(request, cancellationToken).ConfigureAwait(false));
    }

    internal static string ModelPath(string model, ModelVersion version)
    {
        ArgumentException.ThrowIfNullOrEmpty(model);
        return "v2/models/" + Uri.EscapeDataString(model) + version.RouteSuffix;
    }

    private static string RepositoryPath(string model)
    {
        ArgumentException.ThrowIfNullOrEmpty(model);
        return "v2/repository/models/" + Uri.EscapeDataString(model);
    }

    private async Task<bool> GetStatusAsync(string path, CancellationToken cancellationToken)
    {
        using var response = await SendRawAsync(new HttpRequestMessage(HttpMethod.Get, path), cancellationToken).ConfigureAwait(false);
        return response.IsSuccessStatusCode;
    }

    private async Task SendWriteAsync(HttpMethod method, string path, HttpContent? content, CancellationToken cancellationToken)
    {
        var request = new HttpRequestMessage(method, path) { Content = content };
        request.Options.Set(RetryKey, RetryPolicy.OnlyWhenRefused);
        using var response = await SendRawAsync(request, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw await ToExceptionAsync(response, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<string> SendForTextAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        using var response = await SendRawAsync(request, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw await ToExceptionAsync(response, cancellationToken).ConfigureAwait(false);
        }

        return await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task<T> SendAsync<T>(HttpRequestMessage request, JsonTypeInfo<T> type, CancellationToken cancellationToken)
    {
        using var response = await SendRawAsync(request, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw await ToExceptionAsync(response, cancellationToken).ConfigureAwait(false);
        }

        var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            try
            {
                return await JsonSerializer.DeserializeAsync(stream, type, cancellationToken).ConfigureAwait(false)
                    ?? throw new MaaSException(response.StatusCode, "the server answered null");
            }
            catch (JsonException e)
            {
                throw new MaaSException(response.StatusCode, "the server's answer is not the expected JSON: " + e.Message, e);
            }
        }
    }

    private async Task<HttpResponseMessage> SendRawAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        using (request)
        {
            try
            {
                return await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            }
            catch (HttpRequestException e)
            {
                throw new MaaSException(null, $"cannot reach the server at {http.BaseAddress}: {e.Message}", e);
            }
            catch (TaskCanceledException e) when (!cancellationToken.IsCancellationRequested)
            {
                throw new MaaSException(null, $"the server at {http.BaseAddress} did not answer in time", e);
            }
        }
    }

    private static async Task<MaaSException> ToExceptionAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        return new MaaSException(response.StatusCode, ErrorMessage(text, response.ReasonPhrase));
    }

    /// <summary>The message of an error answer's body: its <c>error</c> (V2) or <c>error.message</c> (OpenAI), else the text.</summary>
    internal static string ErrorMessage(string text, string? reasonPhrase)
    {
        var message = text;
        try
        {
            using var document = JsonDocument.Parse(text);
            if (document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("error", out var error))
            {
                if (error.ValueKind == JsonValueKind.String)
                {
                    message = error.GetString()!;
                }
                else if (error.ValueKind == JsonValueKind.Object && error.TryGetProperty("message", out var inner) && inner.ValueKind == JsonValueKind.String)
                {
                    // OpenAI's shape, which /v1/embeddings answers in: {"error": {"message", "type", "param", "code"}}.
                    message = inner.GetString()!;
                }
            }
        }
        catch (JsonException)
        {
            // Not the server's error shape (a proxy's page, say): the text itself is the message.
        }

        return string.IsNullOrWhiteSpace(message) ? reasonPhrase ?? "error" : message;
    }
}

/// <summary>When a request may be sent again after a failure.</summary>
internal enum RetryPolicy
{
    /// <summary>Reads and inference: any transient failure.</summary>
    Transient,

    /// <summary>Registry writes: only a 503 answer, which says nothing was done; never after a lost connection.</summary>
    OnlyWhenRefused,

    /// <summary>Uploads: a stream read once.</summary>
    Never,
}

/// <summary>A stream body that reports the bytes sent so far; the caller keeps the stream.</summary>
internal sealed class ProgressStreamContent : HttpContent
{
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Usage", "CA2213", Justification = "the caller owns the stream")]
    private readonly Stream _source;
    private readonly IProgress<long>? _progress;

    public ProgressStreamContent(Stream source, IProgress<long>? progress)
    {
        _source = source;
        _progress = progress;
        Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
    }

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        var buffer = new byte[81920];
        long sent = 0;
        int read;
        while ((read = await _source.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
        {
            await stream.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
            sent += read;
            _progress?.Report(sent);
        }
    }

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
        SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override bool TryComputeLength(out long length)
    {
        if (_source.CanSeek)
        {
            length = _source.Length - _source.Position;
            return true;
        }

        length = 0;
        return false;
    }
}
