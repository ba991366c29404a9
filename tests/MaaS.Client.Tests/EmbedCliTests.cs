using System.Text.Json;
using MaaS.Client.Tests.Infrastructure;

namespace MaaS.Client.Tests;

/// <summary><c>maas embed</c> end to end against the tiny text pipeline.</summary>
public sealed class EmbedCliTests(TextServer server) : IClassFixture<TextServer>
{
    [Fact]
    public async Task Embed_Json_IsTheServersAnswer()
    {
        var (code, stdout, stderr) = await CliTests.RunAsync(server.App, "embed", TextApplication.Pipeline, "The cat sits on the mat.", "cat", "-o", "json");

        code.Should().Be(0, stderr);
        using var answer = JsonDocument.Parse(stdout);
        answer.RootElement.GetProperty("object").GetString().Should().Be("list");
        var data = answer.RootElement.GetProperty("data");
        data.GetArrayLength().Should().Be(2);
        data[1].GetProperty("embedding").EnumerateArray().Select(e => e.GetSingle())
            .Should().Equal(TextApplication.ExpectedEmbedding("cat"), (a, e) => Math.Abs(a - e) <= 1e-5f);
        answer.RootElement.GetProperty("usage").GetProperty("prompt_tokens").GetInt32().Should().Be(9 + 3);
    }

    [Fact]
    public async Task Embed_Table_ShowsDimsAndFirstValues()
    {
        var (code, stdout, stderr) = await CliTests.RunAsync(server.App, "embed", TextApplication.Pipeline, "cat");

        code.Should().Be(0, stderr);
        var first = TextApplication.ExpectedEmbedding("cat")[0].ToString("0.####", System.Globalization.CultureInfo.InvariantCulture);
        stdout.Should().Contain("1 embeddings, 3 tokens").And.Contain("dims").And.Contain(" 4 ").And.Contain(first);
    }

    [Fact]
    public async Task Embed_NotAnEmbeddingModel_Exits1WithOneLine()
    {
        var (code, _, stderr) = await CliTests.RunAsync(server.App, "embed", TextApplication.Inner, "cat");

        code.Should().Be(1);
        stderr.Trim().Should().StartWith("error: 404").And.Contain("not a text-embedding model").And.NotContain("\n");
        (await CliTests.RunAsync(server.App, "embed", TextApplication.Pipeline)).Code.Should().Be(2, "a text is required");
    }
}
