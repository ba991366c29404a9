using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using MaaS.Server.Hosting;

namespace MaaS.Server.Tests.Infrastructure;

/// <summary>Registry management requests (upload, labels, config, index) and the bundled mlp as the model they move around.</summary>
public static class ManagementRequests
{
    /// <summary>The bundled mlp's model file, the one every upload in these tests sends unless it sends something broken.</summary>
    public static byte[] MlpFile { get; } = File.ReadAllBytes(Path.Combine(RepositoryPaths.Models, "mlp", "1", "model.onnx"));

    /// <summary>The mlp's config without label_filename, so it loads in a repository without labels.txt.</summary>
    public static string MlpConfig(string name = "mlp", int maxBatchSize = 64, string? extra = null) =>
        $$"""
        {
          "name": "{{name}}",
          "platform": "onnxruntime_onnx",
          "max_batch_size": {{maxBatchSize}},
          "input": [{"name": "input", "data_type": "TYPE_FP32", "dims": [4]}],
          "output": [{"name": "logits", "data_type": "TYPE_FP32", "dims": [3]}]{{(extra is null ? "" : ",\n  " + extra)}}
        }
        """;

    public static string Sha256(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    public static Uri Relative(string path) => new(path, UriKind.Relative);

    public static Uri VersionsUri(string model, string? query = null) =>
        Relative($"/v2/repository/models/{model}/versions{(query is null ? "" : "?" + query)}");

    public static ByteArrayContent Raw(byte[] bytes)
    {
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        return content;
    }

    /// <summary>multipart/form-data with the part "model" and, when given, the part "config".</summary>
    public static MultipartFormDataContent Multipart(byte[] model, string? config)
    {
        var content = new MultipartFormDataContent();
        content.Add(new ByteArrayContent(model), "model", "model.onnx");
        if (config is not null)
        {
            content.Add(new StringContent(config, Encoding.UTF8, "application/json"), "config", "config.json");
        }

        return content;
    }

    public static Task<HttpResponseMessage> UploadAsync(HttpClient client, string model, byte[] bytes, string? query = null) =>
        client.PostAsync(VersionsUri(model, query), Raw(bytes));

    /// <summary>Uploads the mlp and asserts it was registered (201).</summary>
    public static async Task UploadMlpAsync(HttpClient client, string model, string? config = null, string? query = null)
    {
        using var response = await client.PostAsync(
            VersionsUri(model, query), config is null ? Raw(MlpFile) : Multipart(MlpFile, config));
        response.StatusCode.Should().Be(HttpStatusCode.Created, "uploading {0} should succeed: {1}", model, await response.Content.ReadAsStringAsync());
    }

    public static Task<HttpResponseMessage> SetLabelAsync(HttpClient client, string model, string label, long version) =>
        client.PutAsync(Relative($"/v2/repository/models/{model}/labels/{label}"), JsonContent.Create(new { version }));

    /// <summary>POST /v2/repository/index, as the JSON array it answers.</summary>
    public static async Task<List<JsonElement>> IndexAsync(HttpClient client)
    {
        using var response = await client.PostAsync(Relative("/v2/repository/index"), null);
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return document.RootElement.EnumerateArray().Select(entry => entry.Clone()).ToList();
    }

    /// <summary>The index as text, for "unchanged" comparisons.</summary>
    public static async Task<string> IndexTextAsync(HttpClient client)
    {
        using var response = await client.PostAsync(Relative("/v2/repository/index"), null);
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        return await response.Content.ReadAsStringAsync();
    }

    /// <summary>The index entry of one version, or null when the index does not list it.</summary>
    public static JsonElement? IndexEntry(IEnumerable<JsonElement> index, string model, string version) =>
        index.Where(entry => entry.GetProperty("name").GetString() == model
                && entry.TryGetProperty("version", out var v) && v.ValueKind == JsonValueKind.String && v.GetString() == version)
            .Select(entry => (JsonElement?)entry)
            .FirstOrDefault();

    /// <summary>GET /v2/repository/models/{m}, asserting 200.</summary>
    public static async Task<JsonElement> ViewAsync(HttpClient client, string model)
    {
        using var response = await client.GetAsync(Relative($"/v2/repository/models/{model}"));
        response.StatusCode.Should().Be(HttpStatusCode.OK, "the registry view of {0}: {1}", model, await response.Content.ReadAsStringAsync());
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return document.RootElement.Clone();
    }

    public static JsonElement ViewVersion(JsonElement view, string version) =>
        view.GetProperty("versions").EnumerateArray().Single(entry => entry.GetProperty("version").GetString() == version);

    /// <summary>The <c>{"error"}</c> message, asserting the body has the error shape and JSON content type.</summary>
    public static async Task<string> ErrorAsync(HttpResponseMessage response)
    {
        response.Content.Headers.ContentType?.MediaType.Should().Be("application/json");
        var error = await response.Content.ReadFromJsonAsync<ErrorResponse>();
        error.Should().NotBeNull();
        error!.Error.Should().NotBeNullOrWhiteSpace();
        return error.Error;
    }

    /// <summary>Sends the mlp reference input to <paramref name="path"/> (an infer route).</summary>
    public static Task<HttpResponseMessage> InferMlpAsync(HttpClient client, string path, CancellationToken cancellationToken = default) =>
        client.PostAsync(Relative(path), V2Requests.Json(V2Requests.JsonBody(ReferenceCase.Bundled("mlp", 1))), cancellationToken);

    /// <summary>Asserts <paramref name="path"/> answers the mlp reference outputs, from <paramref name="version"/> when given; returns the version that answered.</summary>
    public static async Task<string> ShouldServeMlpAsync(HttpClient client, string path, string? version = null)
    {
        using var response = await InferMlpAsync(client, path);
        response.StatusCode.Should().Be(HttpStatusCode.OK, "{0} should serve: {1}", path, await response.Content.ReadAsStringAsync());
        var reply = await InferReply.ReadAsync(response);
        reply.ShouldMatch(ReferenceCase.Bundled("mlp", 1).Outputs[0], 1e-4);
        var served = reply.Json.GetProperty("model_version").GetString()!;
        if (version is not null)
        {
            served.Should().Be(version, "{0} should be served by version {1}", path, version);
        }

        return served;
    }

    /// <summary>Polls until <paramref name="condition"/> holds or <paramref name="timeout"/> passes; true when it held.</summary>
    public static async Task<bool> EventuallyAsync(Func<Task<bool>> condition, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            if (await condition())
            {
                return true;
            }

            await Task.Delay(100);
        }

        return await condition();
    }
}
