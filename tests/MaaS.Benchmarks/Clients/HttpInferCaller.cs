using System.Globalization;
using System.Net;
using System.Text;

namespace MaaS.Benchmarks.Clients;

/// <summary>
/// <c>POST /v2/models/NAME/infer</c> with a V2 binary body (JSON header, then the tensors, with
/// Inference-Header-Content-Length), binary outputs requested, through one <see cref="HttpClient"/> over a
/// <see cref="SocketsHttpHandler"/>: HTTP/1.1, so each concurrent caller has a connection of its own.
/// A good answer is a 200 whose Inference-Header-Content-Length leaves binary output bytes after the JSON.
/// </summary>
internal sealed class HttpInferCaller : IInferCaller
{
    private const string HeaderLengthName = "Inference-Header-Content-Length";
    private readonly HttpClient _client;
    private readonly Uri _uri;
    private readonly BinaryInferBody _body;
    private readonly string _headerLength;

    public HttpInferCaller(Uri server, string model, BinaryInferBody body, long? version = null)
    {
        _client = new HttpClient(new SocketsHttpHandler { UseCookies = false, AutomaticDecompression = DecompressionMethods.None })
        {
            Timeout = IInferCaller.CallTimeout,
        };
        var versionPath = version is null ? "" : $"/versions/{version}";
        _uri = new Uri(server, $"v2/models/{Uri.EscapeDataString(model)}{versionPath}/infer");
        _body = body;
        _headerLength = body.HeaderLength.ToString(CultureInfo.InvariantCulture);
    }

    public async Task<string?> CallAsync(CancellationToken cancellationToken)
    {
        using var content = new ByteArrayContent(_body.Bytes);
        content.Headers.TryAddWithoutValidation("Content-Type", "application/octet-stream");
        using var request = new HttpRequestMessage(HttpMethod.Post, _uri) { Content = content };
        request.Headers.TryAddWithoutValidation(HeaderLengthName, _headerLength);
        try
        {
            using var response = await _client.SendAsync(request, cancellationToken);
            var answer = await response.Content.ReadAsByteArrayAsync(cancellationToken);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                return $"HTTP {(int)response.StatusCode}: {Encoding.UTF8.GetString(answer.AsSpan(0, Math.Min(answer.Length, 500)))}";
            }

            return response.Headers.TryGetValues(HeaderLengthName, out var values)
                && int.TryParse(values.FirstOrDefault(), NumberStyles.None, CultureInfo.InvariantCulture, out var length)
                && length < answer.Length
                ? null
                : $"a 200 without binary outputs ({HeaderLengthName} missing or not less than the {answer.Length} bytes of the body)";
        }
        catch (HttpRequestException e)
        {
            return e.Message;
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return $"no answer within {IInferCaller.CallTimeout.TotalSeconds} s";
        }
    }

    public void Dispose() => _client.Dispose();
}
