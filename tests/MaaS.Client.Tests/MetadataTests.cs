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

        var root = http.RootElement;
        config.Name.Should().Be("mlp");
        config.Platform.Should().Be(root.GetProperty("platform").GetString());
        config.Backend.Should().Be(root.GetProperty("backend").GetString());
        config.MaxBatchSize.Should().Be(root.GetProperty("max_batch_size").GetInt32());
        config.Input.Select(i => (i.Name, i.DataType, string.Join(",", i.Dims))).Should().Equal(
            root.GetProperty("input").EnumerateArray().Select(i => (i.GetProperty("name").GetString()!, i.GetProperty("data_type").GetString()!, string.Join(",", i.GetProperty("dims").EnumerateArray().Select(d => d.GetInt64())))));
        config.Output.Select(o => o.Name).Should().Equal(root.GetProperty("output").EnumerateArray().Select(o => o.GetProperty("name").GetString()));
        config.InstanceGroup!.Sum(g => g.Count).Should().Be(root.GetProperty("instance_group").EnumerateArray().Sum(g => g.GetProperty("count").GetInt32()));
        config.DefaultModelFilename.Should().Be(root.GetProperty("default_model_filename").GetString());

        // Nothing is lost: written back, the typed config is the server's JSON, key for key.
        using var again = JsonDocument.Parse(JsonSerializer.Serialize(config, ClientJsonContext.Default.ModelConfig));
        again.RootElement.EnumerateObject().Select(p => p.Name).Should().BeEquivalentTo(root.EnumerateObject().Select(p => p.Name));
        foreach (var property in root.EnumerateObject())
        {
            JsonElement.DeepEquals(again.RootElement.GetProperty(property.Name), property.Value).Should().BeTrue(property.Name);
        }
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

        after.ModelStats[0].Name.Should().Be("mlp");
        after.ModelStats[0].InferenceStats.Success.Count.Should().Be(before.ModelStats[0].InferenceStats.Success.Count + 1);
        after.ModelStats[0].InferenceCount.Should().Be(before.ModelStats[0].InferenceCount + 2, "the request had two rows");
        after.ModelStats[0].InferenceStats.ComputeInfer.Ns.Should().BeGreaterThan(before.ModelStats[0].InferenceStats.ComputeInfer.Ns);
        after.ModelStats[0].BatchStats.Should().NotBeEmpty();
        all.ModelStats.Select(m => m.Name).Should().Contain("mlp");

        using var http = JsonDocument.Parse(await server.Raw.GetStringAsync("/v2/models/mlp/stats"));
        var expected = http.RootElement.GetProperty("model_stats")[0];
        var typed = (await server.Client.GetStatisticsAsync("mlp")).ModelStats[0];
        typed.Version.Should().Be(expected.GetProperty("version").GetString());
        typed.InferenceStats.Success.Count.Should().Be(expected.GetProperty("inference_stats").GetProperty("success").GetProperty("count").GetInt64());
        typed.InferenceStats.Queue.Ns.Should().Be(expected.GetProperty("inference_stats").GetProperty("queue").GetProperty("ns").GetInt64());
        typed.Extra.Should().ContainKeys("response_stats", "memory_usage");
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
