using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using MaaS.Server.Tests.Infrastructure;

namespace MaaS.Server.Tests.Pipelines;

/// <summary>
/// A pipeline model whose files are missing answers 503 naming the file, and its failed load is remembered (the file
/// is not looked for on every request) until the model is loaded again.
/// </summary>
public sealed class PipelineLoadFailureTests
{
    private static readonly byte[] Seven = File.ReadAllBytes(Path.Combine(RepositoryPaths.Models, "samples", "seven.png"));

    [Fact]
    public async Task Infer_MissingLabels_Is503NamingThemUntilTheModelIsLoadedAgain()
    {
        using var repository = new TempRepository().CopyModel(RepositoryPaths.Models, "cnn");
        repository.WriteFile("digits/config.json", """
            {"pipeline": {"inner_model": "cnn", "image": {"channels": "gray"}, "classification": {"labels": "names.txt", "softmax": true}}}
            """);
        await using var app = new RepositoryApplication(repository.Path);
        using var client = await app.CreateReadyClientAsync();

        (await InferAsync(client)).Should().Be((HttpStatusCode.ServiceUnavailable, "pipeline model 'digits' cannot read its labels names.txt"), "the file is missing");
        repository.WriteFile("digits/names.txt", string.Join('\n', "zero one two three four five six seven eight nine".Split(' ')));
        (await InferAsync(client)).Status.Should().Be(HttpStatusCode.ServiceUnavailable, "the failed load is remembered, not tried again per request");

        using (var load = await client.PostAsync(new Uri("/v2/repository/models/digits/load", UriKind.Relative), null))
        {
            load.StatusCode.Should().Be(HttpStatusCode.OK, await load.Content.ReadAsStringAsync());
        }

        (await InferAsync(client)).Should().Be((HttpStatusCode.OK, "seven"), "loading the model again reads its files again");
    }

    [Fact]
    public async Task Infer_MissingVocabulary_Is503NamingItAndStaysSoWithoutAReload()
    {
        using var repository = new TempRepository().CopyModel(RepositoryPaths.Models, "transformer");
        repository.WriteFile("words/config.json", """{"pipeline": {"inner_model": "transformer", "text": {}, "pooling": {"source": "embedding"}}}""");
        await using var app = new RepositoryApplication(repository.Path);
        using var client = await app.CreateReadyClientAsync();
        const string body = """{"inputs": [{"name": "text", "datatype": "BYTES", "shape": [1], "data": ["hello"]}]}""";

        for (var attempt = 0; attempt < 2; attempt++)
        {
            using var response = await client.PostAsync(V2Requests.InferUri("words"), V2Requests.Json(body));
            response.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
            (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString().Should().Contain("cannot read its vocabulary vocab.txt");
            repository.WriteFile("words/vocab.txt", "[PAD]\n[UNK]\n[CLS]\n[SEP]\nhello\n");
        }
    }

    private static async Task<(HttpStatusCode Status, string Answer)> InferAsync(HttpClient client)
    {
        using var content = new ByteArrayContent(Seven);
        content.Headers.ContentType = new MediaTypeHeaderValue("image/png");
        using var response = await client.PostAsync(V2Requests.InferUri("digits"), content);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var answer = response.IsSuccessStatusCode
            ? ImagePipelineTests.Parse(document.RootElement.GetProperty("outputs")[0].GetProperty("data")[0].GetString()!).Label
            : document.RootElement.GetProperty("error").GetString()!;
        return (response.StatusCode, answer.Split(':')[0]);
    }
}
