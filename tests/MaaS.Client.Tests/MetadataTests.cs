using System.Net;
using System.Text.Json;
using MaaS.Client.Tests.Infrastructure;

namespace MaaS.Client.Tests;

/// <summary>The read calls give what the server's JSON says, field for field.</summary>
public sealed class MetadataTests(BundledServer server) : IClassFixture<BundledServer>
{
    [Fact]
    public async Task ServerMetadata_EqualsHttpAnswer()
    {
        using var http = JsonDocument.Parse(await server.Raw.GetStringAsync("/v2"));

        var metadata = await server.Client.GetServerMetadataAsync();

        metadata.Name.Should().Be(http.RootElement.GetProperty("name").GetString());
        metadata.Version.Should().Be(http.RootElement.GetProperty("version").GetString());
        metadata.Extensions.Should().Equal(http.RootElement.GetProperty("extensions").EnumerateArray().Select(e => e.GetString()));
        metadata.ExecutionProvider.Should().Be("cpu");
        (await server.Client.IsLiveAsync()).Should().BeTrue();
        (await server.Client.IsReadyAsync()).Should().BeTrue();
    }

    [Theory]
    [InlineData("mlp")]
    [InlineData("cnn")]
    public async Task ModelMetadata_EqualsHttpAnswer(string model)
    {
        using var http = JsonDocument.Parse(await server.Raw.GetStringAsync($"/v2/models/{model}"));

        var metadata = await server.Client.GetModelMetadataAsync(model);
        var byVersion = await server.Client.GetModelMetadataAsync(model, ModelVersion.Of(1));

        metadata.Name.Should().Be(model);
        metadata.Platform.Should().Be(http.RootElement.GetProperty("platform").GetString());
        metadata.Versions.Should().Equal(http.RootElement.GetProperty("versions").EnumerateArray().Select(e => e.GetString()));
        var inputs = http.RootElement.GetProperty("inputs").EnumerateArray().ToList();
        metadata.Inputs.Should().HaveCount(inputs.Count);
        for (var i = 0; i < inputs.Count; i++)
        {
            metadata.Inputs[i].Name.Should().Be(inputs[i].GetProperty("name").GetString());
            metadata.Inputs[i].Datatype.Should().Be(inputs[i].GetProperty("datatype").GetString());
            metadata.Inputs[i].Shape.Should().Equal(inputs[i].GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()));
        }

        metadata.Outputs.Select(o => o.Name).Should().Equal(http.RootElement.GetProperty("outputs").EnumerateArray().Select(o => o.GetProperty("name").GetString()));
        byVersion.Versions.Should().Equal("1");
        (await server.Client.IsModelReadyAsync(model)).Should().BeTrue();
    }

    [Fact]
    public async Task Config_EqualsHttpAnswer()
    {
        using var http = JsonDocument.Parse(await server.Raw.GetStringAsync("/v2/models/mlp/config"));

        var config = await server.Client.GetModelConfigAsync("mlp");

        config.GetRawText().Should().Be(http.RootElement.GetRawText());
    }

    [Fact]
    public async Task RepositoryIndex_ListsBundledModelsReady()
    {
        var index = await server.Client.GetRepositoryIndexAsync();
        var ready = await server.Client.GetRepositoryIndexAsync(readyOnly: true);

        index.Select(e => e.Name).Should().Contain(["mlp", "cnn", "rnn", "transformer"]);
        ready.Should().OnlyContain(e => e.State == "READY");
        ready.Should().Contain(e => e.Name == "mlp" && e.Version == "1");
    }

    [Fact]
    public async Task Statistics_CountInferences()
    {
        var before = await server.Client.GetStatisticsAsync("mlp");
        await server.Client.InferAsync("mlp", [InferInput.Create<float>("input", new float[8], 2, 4)]);
        var after = await server.Client.GetStatisticsAsync("mlp");
        var all = await server.Client.GetStatisticsAsync();

        static long Successes(JsonElement stats) =>
            stats.GetProperty("model_stats")[0].GetProperty("inference_stats").GetProperty("success").GetProperty("count").GetInt64();
        Successes(after).Should().Be(Successes(before) + 1);
        all.GetProperty("model_stats").EnumerateArray().Select(m => m.GetProperty("name").GetString()).Should().Contain("mlp");
    }

    [Fact]
    public async Task Classification_ReturnsTopClassesAsStrings()
    {
        var result = await server.Client.InferAsync(
            "mlp",
            [InferInput.Create<float>("input", new[] { 5.1f, 3.5f, 1.4f, 0.2f, 6.7f, 3.1f, 4.4f, 1.4f }, 2, 4)],
            new InferOptions { Outputs = [new RequestedOutput("logits", Classification: 2)], Version = ModelVersion.Of(1) });

        var classes = result["logits"].GetStrings();
        classes.Should().HaveCount(4);
        classes.Should().OnlyContain(c => c.Split(':').Length >= 2);
    }

    [Fact]
    public async Task UnknownModel_MetadataThrows404WithMessage()
    {
        var act = () => server.Client.GetModelMetadataAsync("nope");

        var error = (await act.Should().ThrowAsync<MaaSException>()).Which;
        error.StatusCode.Should().Be(HttpStatusCode.NotFound);
        error.Message.Should().Contain("nope");
    }
}
