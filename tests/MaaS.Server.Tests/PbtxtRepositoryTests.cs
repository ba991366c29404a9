using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using MaaS.Server.Tests.Infrastructure;
using static MaaS.Server.Tests.Infrastructure.ManagementRequests;

namespace MaaS.Server.Tests;

/// <summary>
/// A Triton repository of config.pbtxt models (tests/fixtures/pbtxt) serves exactly as the same models configured by
/// config.json do: same index, metadata, effective config, registry view and inference outputs.
/// </summary>
public sealed class PbtxtRepositoryTests(PbtxtTwinServers servers) : IClassFixture<PbtxtTwinServers>
{
    public static TheoryData<string> Models => [.. PbtxtTwinServers.Models];

    [Fact]
    public async Task Index_PbtxtRepository_SameAsTwinAndVersionPolicyApplied()
    {
        using var pbtxt = await servers.Pbtxt.CreateReadyClientAsync();
        using var twin = await servers.Twin.CreateReadyClientAsync();

        var index = await IndexAsync(pbtxt);

        ShouldBeSame(new JsonArray([.. index.Select(entry => JsonNode.Parse(entry.GetRawText()))]), new JsonArray([.. (await IndexAsync(twin)).Select(entry => JsonNode.Parse(entry.GetRawText()))]));
        index.Select(entry => $"{entry.GetProperty("name").GetString()}/{entry.GetProperty("version").GetString()}={entry.GetProperty("state").GetString()}")
            .Should().Equal("int_types/1=READY", "multi_io/1=READY", "no_batch/1=READY");
    }

    [Theory]
    [MemberData(nameof(Models))]
    public async Task Metadata_PbtxtModel_SameAsTwin(string model)
    {
        await ShouldAnswerTheSameAsync($"/v2/models/{model}");
    }

    [Theory]
    [MemberData(nameof(Models))]
    public async Task EffectiveConfig_PbtxtModel_SameAsTwin(string model)
    {
        var config = await ShouldAnswerTheSameAsync($"/v2/models/{model}/config");

        if (model == "multi_io")
        {
            config["dynamic_batching"]!["preferred_batch_size"]!.AsArray().Select(size => size!.GetValue<int>()).Should().Equal(2, 4);
            config["optimization"]!["graph"]!["level"]!.GetValue<int>().Should().Be(1);
        }
    }

    [Theory]
    [MemberData(nameof(Models))]
    public async Task RegistryView_PbtxtModel_SameLabelsConfigAndIgnoredKeysAsTwin(string model)
    {
        // When each server loaded its files differs; everything else must not.
        var view = await ShouldAnswerTheSameAsync($"/v2/repository/models/{model}", answer =>
        {
            foreach (var version in answer["versions"]!.AsArray())
            {
                version!.AsObject().Remove("created");
            }
        });

        if (model == "int_types")
        {
            view["versions"]![1]!["reason"]!.GetValue<string>().Should().Be("not selected by the version policy");
        }
        else if (model == "multi_io")
        {
            // parameters.source is not one Triton's ONNX Runtime backend reads: accepted and reported as ignored.
            view["ignored_config_keys"]!.AsArray().Select(key => key!.GetValue<string>())
                .Should().Equal("optimization.input_pinned_memory", "optimization.priority", "parameters.source");
        }
        else if (model == "no_batch")
        {
            view["labels"]!["stable"]!.GetValue<long>().Should().Be(1);
        }
    }

    [Theory]
    [MemberData(nameof(Models))]
    public async Task Infer_PbtxtModel_SameOutputsAsTwinAndReference(string model)
    {
        var reference = ReferenceCase.Zoo(model);
        using var pbtxt = await servers.Pbtxt.CreateReadyClientAsync();
        using var twin = await servers.Twin.CreateReadyClientAsync();

        using var pbtxtResponse = await pbtxt.PostAsync(V2Requests.InferUri(model), V2Requests.Json(V2Requests.JsonBody(reference)));
        using var twinResponse = await twin.PostAsync(V2Requests.InferUri(model), V2Requests.Json(V2Requests.JsonBody(reference)));

        pbtxtResponse.StatusCode.Should().Be(HttpStatusCode.OK, await pbtxtResponse.Content.ReadAsStringAsync());
        var reply = await InferReply.ReadAsync(pbtxtResponse);
        foreach (var expected in reference.Outputs)
        {
            reply.ShouldMatch(expected, TensorValues.Tolerance(expected.Datatype));
        }

        var outputs = JsonNode.Parse(reply.Json.GetRawText())!["outputs"];
        var twinOutputs = JsonNode.Parse(await twinResponse.Content.ReadAsStringAsync())!["outputs"];
        ShouldBeSame(outputs, twinOutputs);
    }

    private async Task<JsonNode> ShouldAnswerTheSameAsync(string path, Action<JsonNode>? normalize = null)
    {
        using var pbtxt = await servers.Pbtxt.CreateReadyClientAsync();
        using var twin = await servers.Twin.CreateReadyClientAsync();

        using var pbtxtResponse = await pbtxt.GetAsync(Relative(path));
        using var twinResponse = await twin.GetAsync(Relative(path));

        pbtxtResponse.StatusCode.Should().Be(HttpStatusCode.OK, await pbtxtResponse.Content.ReadAsStringAsync());
        twinResponse.StatusCode.Should().Be(HttpStatusCode.OK);
        var answer = JsonNode.Parse(await pbtxtResponse.Content.ReadAsStringAsync())!;
        var twinAnswer = JsonNode.Parse(await twinResponse.Content.ReadAsStringAsync())!;
        normalize?.Invoke(answer);
        normalize?.Invoke(twinAnswer);
        ShouldBeSame(answer, twinAnswer);
        return answer;
    }

    private static void ShouldBeSame(JsonNode? pbtxt, JsonNode? twin) =>
        JsonNode.DeepEquals(pbtxt, twin).Should().BeTrue(
            "the config.pbtxt model should answer {0}\nas its config.json twin does: {1}",
            pbtxt?.ToJsonString(),
            twin?.ToJsonString(new JsonSerializerOptions { WriteIndented = false }));
}
