using System.IO.Compression;
using System.Net;
using System.Text.Json;
using MaaS.Server.Tests.Infrastructure;

namespace MaaS.Server.Tests;

/// <summary>Responses compressed as the client's Accept-Encoding asks (gzip, deflate), JSON and binary.</summary>
[Collection(BundledModelsGroup.Name)]
public sealed class ResponseCompressionTests(MaaSApplication app)
{
    [Theory]
    [InlineData("gzip")]
    [InlineData("deflate")]
    public async Task Infer_AcceptEncoding_CompressesTheJsonResponse(string encoding)
    {
        var reference = ReferenceCase.Bundled("mlp", 1);
        using var client = await app.CreateReadyClientAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, V2Requests.InferUri("mlp")) { Content = V2Requests.Json(V2Requests.JsonBody(reference)) };
        request.Headers.TryAddWithoutValidation("Accept-Encoding", encoding);

        using var response = await client.SendAsync(request);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Content.Headers.ContentEncoding.Should().Equal(encoding);
        using var document = JsonDocument.Parse(Decompress(await response.Content.ReadAsByteArrayAsync(), encoding));
        document.RootElement.GetProperty("model_name").GetString().Should().Be("mlp");
        var logits = document.RootElement.GetProperty("outputs")[0].GetProperty("data").EnumerateArray().Select(value => value.GetDouble()).ToList();
        logits.Should().Equal(TensorValues.Of(reference.Outputs[0]).Cast<double>(), (actual, expected) => Math.Abs(actual - expected) < 1e-4);
    }

    [Fact]
    public async Task Infer_BinaryOutputsWithGzip_KeepTheUncompressedHeaderLength()
    {
        var reference = ReferenceCase.Bundled("mlp", 1);
        using var client = await app.CreateReadyClientAsync();
        using var request = V2Requests.Binary(V2Requests.InferUri("mlp"), reference);
        request.Headers.TryAddWithoutValidation("Accept-Encoding", "gzip");

        using var response = await client.SendAsync(request);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Content.Headers.ContentEncoding.Should().Equal("gzip");
        var body = Decompress(await response.Content.ReadAsByteArrayAsync(), "gzip");
        var headerLength = int.Parse(response.Headers.GetValues(V2Requests.HeaderLength).Single(), System.Globalization.CultureInfo.InvariantCulture);
        using var header = JsonDocument.Parse(body.AsMemory(0, headerLength));
        var size = header.RootElement.GetProperty("outputs")[0].GetProperty("parameters").GetProperty("binary_data_size").GetInt32();
        (headerLength + size).Should().Be(body.Length, "the header length and binary sizes describe the uncompressed body");
        TensorValues.FromBinary(body.AsSpan(headerLength), "FP32").Cast<double>().Should()
            .Equal(TensorValues.Of(reference.Outputs[0]).Cast<double>(), (actual, expected) => Math.Abs(actual - expected) < 1e-4);
    }

    [Fact]
    public async Task Infer_WithoutAcceptEncoding_IsNotCompressed()
    {
        using var client = await app.CreateReadyClientAsync();

        using var response = await client.PostAsync(V2Requests.InferUri("mlp"), V2Requests.Json(V2Requests.JsonBody(ReferenceCase.Bundled("mlp", 1))));

        response.Content.Headers.ContentEncoding.Should().BeEmpty();
    }

    [Fact]
    public async Task Infer_JsonAnswer_CarriesItsContentLength()
    {
        // Written whole before it is sent: a Content-Length, not chunks (one write to the socket, and the request log's
        // "out" size).
        using var client = await app.CreateReadyClientAsync();

        using var request = new HttpRequestMessage(HttpMethod.Post, V2Requests.InferUri("mlp")) { Content = V2Requests.Json(V2Requests.JsonBody(ReferenceCase.Bundled("mlp", 1))) };
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        // As the server sent it (ContentLength would compute one from a buffered body).
        response.Content.Headers.NonValidated.TryGetValues("Content-Length", out var sent).Should().BeTrue("the server states the length");
        response.Headers.TransferEncodingChunked.Should().NotBe(true);
        var body = await response.Content.ReadAsByteArrayAsync();
        sent.ToString().Should().Be(body.Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
        JsonDocument.Parse(body).RootElement.GetProperty("model_name").GetString().Should().Be("mlp");
    }

    private static byte[] Decompress(byte[] body, string encoding)
    {
        using var input = new MemoryStream(body);
        using Stream decompressor = encoding == "gzip" ? new GZipStream(input, CompressionMode.Decompress) : new ZLibStream(input, CompressionMode.Decompress);
        using var output = new MemoryStream();
        decompressor.CopyTo(output);
        return output.ToArray();
    }
}
