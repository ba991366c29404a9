using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using MaaS.Server.Tests.Infrastructure;
using static MaaS.Server.Tests.Infrastructure.ManagementRequests;

namespace MaaS.Server.Tests;

/// <summary>The disk is the source of truth: what the API built (versions, labels, config) is what a new server on the same repository serves.</summary>
public sealed class RestartTests
{
    [Fact]
    public async Task Start_OnRepositoryBuiltThroughTheApi_ServesTheSameVersionsLabelsAndConfig()
    {
        using var repository = new TempRepository();
        var config = MlpConfig("fresh", maxBatchSize: 8, extra: "\"version_policy\": {\"all\": {}}");
        await using (var first = new RepositoryApplication(repository.Path))
        {
            using var client = await first.CreateReadyClientAsync();
            await UploadMlpAsync(client, "fresh", config);
            await UploadMlpAsync(client, "fresh");
            using var label = await SetLabelAsync(client, "fresh", "stable", 1);
            label.StatusCode.Should().Be(HttpStatusCode.NoContent);
        }

        await using var second = new RepositoryApplication(repository.Path);
        using var restarted = await second.CreateReadyClientAsync();

        var index = await IndexAsync(restarted);
        index.Select(entry => (entry.GetProperty("name").GetString(), entry.GetProperty("version").GetString(), entry.GetProperty("state").GetString()))
            .Should().Equal(("fresh", "1", "READY"), ("fresh", "2", "READY"));
        await ShouldServeMlpAsync(restarted, "/v2/models/fresh/labels/stable/infer", "1");
        await ShouldServeMlpAsync(restarted, "/v2/models/fresh/infer", "2");
        using var response = await restarted.GetAsync(Relative("/v2/models/fresh/config"));
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        var effective = await response.Content.ReadFromJsonAsync<JsonElement>();
        effective.GetProperty("max_batch_size").GetInt32().Should().Be(8);
        effective.GetProperty("version_policy").GetRawText().Should().Be("""{"all":{}}""");
        effective.GetProperty("labels").GetProperty("stable").GetInt64().Should().Be(1);
        var view = await ViewAsync(restarted, "fresh");
        ViewVersion(view, "1").GetProperty("labels").EnumerateArray().Select(label => label.GetString()).Should().Equal("stable");
        ViewVersion(view, "2").GetProperty("sha256").GetString().Should().Be(Sha256(MlpFile), "the upload record is read back");
    }
}
