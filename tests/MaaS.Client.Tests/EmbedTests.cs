using System.Net;
using MaaS.Client.Tests.Infrastructure;

namespace MaaS.Client.Tests;

/// <summary>
/// EmbedAsync against the server's /v1/embeddings on a tiny text pipeline: each vector equals the normalised mean of
/// its tokens' rows of the inner model's table, computed by the test (<see cref="TextApplication.ExpectedEmbedding"/>).
/// </summary>
public sealed class EmbedTests(TextServer server) : IClassFixture<TextServer>
{
    private static readonly string[] Texts = ["The cat sits on the mat.", "A dog plays in the park.", "cat"];

    [Theory]
    [InlineData(EmbeddingEncoding.Float)]
    [InlineData(EmbeddingEncoding.Base64)]
    public async Task Embed_Texts_EqualTheTablesMeans(EmbeddingEncoding encoding)
    {
        var result = await server.Client.EmbedAsync(TextApplication.Pipeline, Texts, encoding);

        result.Model.Should().Be(TextApplication.Pipeline);
        result.Data.Select(d => d.Index).Should().Equal(0, 1, 2);
        for (var i = 0; i < Texts.Length; i++)
        {
            result.Data[i].Vector.ToArray().Should().Equal(TextApplication.ExpectedEmbedding(Texts[i]), (a, e) => Math.Abs(a - e) <= 1e-5f, Texts[i]);
        }

        result.PromptTokens.Should().Be(Texts.Sum(TextApplication.TokenCount));
        result.TotalTokens.Should().Be(result.PromptTokens);
    }

    [Fact]
    public async Task Embed_Base64AndFloat_AreTheSameBits()
    {
        var floats = await server.Client.EmbedAsync(TextApplication.Pipeline, Texts);
        var base64 = await server.Client.EmbedAsync(TextApplication.Pipeline, Texts, EmbeddingEncoding.Base64);

        base64.Json.Should().NotBe(floats.Json);
        for (var i = 0; i < Texts.Length; i++)
        {
            base64.Data[i].Vector.ToArray().Should().Equal(floats.Data[i].Vector.ToArray());
        }
    }

    [Fact]
    public async Task Embed_NotAnEmbeddingModel_Is404WithOpenAIsMessage()
    {
        var act = () => server.Client.EmbedAsync(TextApplication.Inner, Texts);

        var error = (await act.Should().ThrowAsync<MaaSException>()).Which;
        error.StatusCode.Should().Be(HttpStatusCode.NotFound);
        error.Message.Should().Contain("not a text-embedding model").And.Contain("'words'").And.NotContain("{");
    }

    [Fact]
    public async Task Embed_NoText_Is400WithTheServersMessage()
    {
        var act = () => server.Client.EmbedAsync(TextApplication.Pipeline, []);

        var error = (await act.Should().ThrowAsync<MaaSException>()).Which;
        error.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        error.Message.Should().Be("'input' must be a string or a non-empty array of strings");
    }
}
