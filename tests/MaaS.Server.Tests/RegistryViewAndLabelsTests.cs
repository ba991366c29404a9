using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using MaaS.Server.Tests.Infrastructure;
using static MaaS.Server.Tests.Infrastructure.ManagementRequests;

namespace MaaS.Server.Tests;

/// <summary>
/// GET /v2/repository/models/{m}, labels (PUT/DELETE), version and model deletion, config replacement. Each test that
/// changes the registry has its own repository: the mlp with versions copied in by hand or uploaded. Unknown names are
/// asked of one shared server.
/// </summary>
public sealed class RegistryViewAndLabelsTests(MlpServerFixture server) : IClassFixture<MlpServerFixture>
{
    public static TheoryData<string, string, string?> UnknownModelRoutes() => new()
    {
        { "GET", "/v2/repository/models/nope", null },
        { "PUT", "/v2/repository/models/nope/config", MlpConfig("nope") },
        { "PUT", "/v2/repository/models/nope/labels/stable", """{"version": 1}""" },
        { "DELETE", "/v2/repository/models/nope/labels/stable", null },
        { "DELETE", "/v2/repository/models/nope/versions/1", null },
        { "DELETE", "/v2/repository/models/nope", null },
        { "POST", "/v2/repository/models/nope/load", null },
        { "POST", "/v2/repository/models/nope/unload", null },
        { "GET", "/v2/models/nope/labels/stable", null },
        { "GET", "/v2/models/nope/labels/stable/ready", null },
        { "GET", "/v2/models/nope/labels/stable/config", null },
        { "POST", "/v2/models/nope/labels/stable/infer", V2Requests.JsonBody(ReferenceCase.Bundled("mlp", 1)).ToJsonString() },
    };

    public static TheoryData<string, string, string?> UnknownLabelRoutes() => new()
    {
        { "GET", "/v2/models/mlp/labels/nope", null },
        { "GET", "/v2/models/mlp/labels/nope/ready", null },
        { "POST", "/v2/models/mlp/labels/nope/infer", V2Requests.JsonBody(ReferenceCase.Bundled("mlp", 1)).ToJsonString() },
        { "DELETE", "/v2/repository/models/mlp/labels/nope", null },
        { "DELETE", "/v2/repository/models/mlp/versions/9", null },
    };

    [Fact]
    public async Task GetView_UploadedVersions_ListsEachWithStateHashSizeCreatedAndLabels()
    {
        using var repository = new TempRepository();
        using var app = new RepositoryApplication(repository.Path);
        using var client = await app.CreateReadyClientAsync();
        var started = TimeProvider.System.GetUtcNow().AddSeconds(-5);
        await UploadMlpAsync(client, "fresh");
        await UploadMlpAsync(client, "fresh");
        await UploadMlpAsync(client, "fresh");
        using (var label = await SetLabelAsync(client, "fresh", "stable", 1))
        {
            label.StatusCode.Should().Be(HttpStatusCode.NoContent);
        }

        var view = await ViewAsync(client, "fresh");

        view.GetProperty("name").GetString().Should().Be("fresh");
        view.GetProperty("unloaded").GetBoolean().Should().BeFalse();
        view.GetProperty("labels").GetProperty("stable").GetInt64().Should().Be(1);
        view.GetProperty("config").GetProperty("labels").GetProperty("stable").GetInt64().Should().Be(1);
        view.GetProperty("versions").EnumerateArray().Select(v => v.GetProperty("version").GetString()).Should().Equal("1", "2", "3");
        foreach (var version in view.GetProperty("versions").EnumerateArray())
        {
            version.GetProperty("sha256").GetString().Should().Be(Sha256(MlpFile));
            version.GetProperty("size_bytes").GetInt64().Should().Be(MlpFile.Length);
            version.GetProperty("created").GetDateTimeOffset().Should().BeAfter(started).And.BeBefore(started.AddMinutes(5));
        }

        State(ViewVersion(view, "1")).Should().Be(("READY", null, "stable"));
        State(ViewVersion(view, "2")).Should().Be(("UNAVAILABLE", "not selected by the version policy", ""));
        State(ViewVersion(view, "3")).Should().Be(("READY", null, ""));
    }

    [Fact]
    public async Task GetView_VersionsCopiedInOutsideThePolicy_UnavailableNotSelected()
    {
        using var repository = MlpWithVersions(2, 3);
        using var app = new RepositoryApplication(repository.Path);
        using var client = await app.CreateReadyClientAsync();

        var view = await ViewAsync(client, "mlp");

        view.GetProperty("versions").EnumerateArray().Select(v => v.GetProperty("version").GetString()).Should().Equal("1", "2", "3");
        foreach (var number in new[] { "1", "2" })
        {
            var version = ViewVersion(view, number);
            State(version).Should().Be(("UNAVAILABLE", "not selected by the version policy", ""));
            version.GetProperty("size_bytes").GetInt64().Should().Be(MlpFile.Length);
        }

        var served = ViewVersion(view, "3");
        State(served).Should().Be(("READY", null, ""));
        served.GetProperty("sha256").GetString().Should().Be(Sha256(MlpFile), "a version copied in by hand is hashed when it loads");
        served.GetProperty("size_bytes").GetInt64().Should().Be(MlpFile.Length);
        view.GetProperty("config").GetProperty("name").GetString().Should().Be("mlp");
    }

    [Fact]
    public async Task SetLabel_OlderVersion_InferByLabelServesItWhileLatestServesNewest()
    {
        using var repository = MlpWithVersions(2);
        using var app = new RepositoryApplication(repository.Path);
        using var client = await app.CreateReadyClientAsync();

        using var response = await SetLabelAsync(client, "mlp", "stable", 1);

        response.StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await response.Content.ReadAsByteArrayAsync()).Should().BeEmpty();
        await ShouldServeMlpAsync(client, "/v2/models/mlp/labels/stable/infer", "1");
        await ShouldServeMlpAsync(client, "/v2/models/mlp/infer", "2");
        using var metadata = await client.GetAsync(Relative("/v2/models/mlp/labels/stable"));
        metadata.StatusCode.Should().Be(HttpStatusCode.OK);
        (await metadata.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("versions").EnumerateArray()
            .Select(v => v.GetString()).Should().Equal("1");
        using var ready = await client.GetAsync(Relative("/v2/models/mlp/labels/stable/ready"));
        ready.StatusCode.Should().Be(HttpStatusCode.OK);
        (await ready.Content.ReadAsByteArrayAsync()).Should().BeEmpty();
    }

    [Fact]
    public async Task SetLabel_ExistingLabelWrittenAsAString_MovesLabelsAndWritesThemAsNumbers()
    {
        using var repository = MlpWithVersions(2);
        repository.WriteFile("mlp/config.json", MlpConfig(extra: "\"labels\": {\"stable\": \"1\"}"));
        using var app = new RepositoryApplication(repository.Path);
        using var client = await app.CreateReadyClientAsync();

        using var response = await SetLabelAsync(client, "mlp", "canary", 2);

        response.StatusCode.Should().Be(HttpStatusCode.NoContent, "Triton's integers may be strings, and a label edit reads them as the config reader does");
        var labels = (await ViewAsync(client, "mlp")).GetProperty("labels");
        labels.GetProperty("stable").GetInt64().Should().Be(1);
        labels.GetProperty("canary").GetInt64().Should().Be(2);
        var written = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(repository.Path, "mlp", "config.json")))!;
        written["labels"]!["stable"]!.GetValueKind().Should().Be(JsonValueKind.Number);
        await ShouldServeMlpAsync(client, "/v2/models/mlp/labels/stable/infer", "1");
    }

    [Fact]
    public async Task SetLabel_VersionOutsideLatestPolicy_KeepsItServed()
    {
        using var repository = MlpWithVersions(2);
        using var app = new RepositoryApplication(repository.Path);
        using var client = await app.CreateReadyClientAsync();
        using (var before = await client.GetAsync(Relative("/v2/models/mlp/versions/1/ready")))
        {
            before.StatusCode.Should().Be(HttpStatusCode.NotFound, "version 1 is outside the latest-1 policy");
            (await ErrorAsync(before)).Should().Contain("'mlp' version 1 is not found");
        }

        using var response = await SetLabelAsync(client, "mlp", "stable", 1);

        response.StatusCode.Should().Be(HttpStatusCode.NoContent);
        using var after = await client.GetAsync(Relative("/v2/models/mlp/versions/1/ready"));
        after.StatusCode.Should().Be(HttpStatusCode.OK);
        await ShouldServeMlpAsync(client, "/v2/models/mlp/versions/1/infer", "1");
        var index = await IndexAsync(client);
        IndexEntry(index, "mlp", "1")!.Value.GetProperty("state").GetString().Should().Be("READY");
        IndexEntry(index, "mlp", "2")!.Value.GetProperty("state").GetString().Should().Be("READY");
    }

    [Fact]
    public async Task SetLabel_MissingVersion_Returns409AndChangesNothing()
    {
        using var repository = MlpWithVersions(2);
        using var app = new RepositoryApplication(repository.Path);
        using var client = await app.CreateReadyClientAsync();
        var before = RepositoryTree.Capture(repository.Path);
        var index = await IndexTextAsync(client);

        using var response = await SetLabelAsync(client, "mlp", "stable", 7);

        response.StatusCode.Should().Be(HttpStatusCode.Conflict);
        (await ErrorAsync(response)).Should().Contain("has no version 7");
        RepositoryTree.ShouldBeUnchanged(before);
        (await IndexTextAsync(client)).Should().Be(index);
    }

    [Theory]
    [InlineData("bad%20label")]
    [InlineData(".hidden")]
    [InlineData("semi%3Bcolon")]
    public async Task SetLabel_InvalidLabelName_Returns400AndChangesNothing(string label)
    {
        var before = RepositoryTree.Capture(server.Repository.Path);

        using var response = await SetLabelAsync(server.Client, "mlp", label, 1);

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await ErrorAsync(response)).Should().Contain("is not a valid label name");
        RepositoryTree.ShouldBeUnchanged(before);
    }

    [Theory]
    [InlineData("""{"version": "one"}""")]
    [InlineData("""{"v": 1}""")]
    [InlineData("""[1]""")]
    [InlineData("""{"version": 1""")]
    public async Task SetLabel_MalformedBody_Returns400AndChangesNothing(string body)
    {
        var before = RepositoryTree.Capture(server.Repository.Path);

        using var response = await server.Client.PutAsync(Relative("/v2/repository/models/mlp/labels/stable"), V2Requests.Json(body));

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await ErrorAsync(response)).Should().Contain("label request must be {\"version\": N}");
        RepositoryTree.ShouldBeUnchanged(before);
    }

    [Fact]
    public async Task SetLabel_MovedToAnotherVersion_ServesThatOneAndReleasesTheOld()
    {
        using var repository = MlpWithVersions(2, 3);
        using var app = new RepositoryApplication(repository.Path);
        using var client = await app.CreateReadyClientAsync();
        using (var first = await SetLabelAsync(client, "mlp", "stable", 1))
        {
            first.StatusCode.Should().Be(HttpStatusCode.NoContent);
        }

        using var response = await SetLabelAsync(client, "mlp", "stable", 2);

        response.StatusCode.Should().Be(HttpStatusCode.NoContent);
        await ShouldServeMlpAsync(client, "/v2/models/mlp/labels/stable/infer", "2");
        var view = await ViewAsync(client, "mlp");
        State(ViewVersion(view, "1")).Should().Be(("UNAVAILABLE", "not selected by the version policy", ""));
        State(ViewVersion(view, "2")).Should().Be(("READY", null, "stable"));
        view.GetProperty("labels").EnumerateObject().Select(p => (p.Name, p.Value.GetInt64())).Should().Equal([("stable", 2L)]);
        using var old = await InferMlpAsync(client, "/v2/models/mlp/versions/1/infer");
        old.StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await ErrorAsync(old)).Should().Contain("'mlp' version 1 is not found");
    }

    [Fact]
    public async Task DeleteLabel_VersionOutsidePolicy_Returns204AndStopsServingIt()
    {
        using var repository = MlpWithVersions(2);
        using var app = new RepositoryApplication(repository.Path);
        using var client = await app.CreateReadyClientAsync();
        using (var label = await SetLabelAsync(client, "mlp", "stable", 1))
        {
            label.StatusCode.Should().Be(HttpStatusCode.NoContent);
        }

        using var response = await client.DeleteAsync(Relative("/v2/repository/models/mlp/labels/stable"));

        response.StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await response.Content.ReadAsByteArrayAsync()).Should().BeEmpty();
        using var byLabel = await InferMlpAsync(client, "/v2/models/mlp/labels/stable/infer");
        byLabel.StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await ErrorAsync(byLabel)).Should().Contain("has no label 'stable'");
        using var byVersion = await InferMlpAsync(client, "/v2/models/mlp/versions/1/infer");
        byVersion.StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await ErrorAsync(byVersion)).Should().Contain("'mlp' version 1 is not found");
        JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(repository.Path, "mlp", "config.json")))!["labels"]!.AsObject()
            .Should().BeEmpty("the label is gone from config.json");
        await ShouldServeMlpAsync(client, "/v2/models/mlp/infer", "2");
    }

    [Fact]
    public async Task DeleteVersion_Labelled_Returns409AndKeepsIt()
    {
        using var repository = MlpWithVersions(2);
        using var app = new RepositoryApplication(repository.Path);
        using var client = await app.CreateReadyClientAsync();
        using (var label = await SetLabelAsync(client, "mlp", "stable", 1))
        {
            label.StatusCode.Should().Be(HttpStatusCode.NoContent);
        }

        var before = RepositoryTree.Capture(repository.Path);

        using var response = await client.DeleteAsync(Relative("/v2/repository/models/mlp/versions/1"));

        response.StatusCode.Should().Be(HttpStatusCode.Conflict);
        (await ErrorAsync(response)).Should().Contain("version 1 is labelled stable");
        RepositoryTree.ShouldBeUnchanged(before);
        await ShouldServeMlpAsync(client, "/v2/models/mlp/labels/stable/infer", "1");
    }

    [Fact]
    public async Task DeleteVersion_Latest_Returns204RemovesDirectoryAndServesThePreviousOne()
    {
        using var repository = MlpWithVersions(2);
        using var app = new RepositoryApplication(repository.Path);
        using var client = await app.CreateReadyClientAsync();

        using var response = await client.DeleteAsync(Relative("/v2/repository/models/mlp/versions/2"));

        response.StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await response.Content.ReadAsByteArrayAsync()).Should().BeEmpty();
        Directory.Exists(Path.Combine(repository.Path, "mlp", "2")).Should().BeFalse();
        RepositoryTree.WorkAreasShouldBeEmpty(repository.Path);
        using var deleted = await InferMlpAsync(client, "/v2/models/mlp/versions/2/infer");
        deleted.StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await ErrorAsync(deleted)).Should().Contain("'mlp' version 2 is not found");
        await ShouldServeMlpAsync(client, "/v2/models/mlp/infer", "1");
        using var again = await client.DeleteAsync(Relative("/v2/repository/models/mlp/versions/2"));
        again.StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await ErrorAsync(again)).Should().Contain("'mlp' version 2 is not found");
    }

    [Fact]
    public async Task DeleteModel_Returns204AndRemovesItFromIndexAndDisk()
    {
        using var repository = MlpWithVersions(2).CopyModel(RepositoryPaths.Models, "cnn");
        using var app = new RepositoryApplication(repository.Path);
        using var client = await app.CreateReadyClientAsync();

        using var response = await client.DeleteAsync(Relative("/v2/repository/models/mlp"));

        response.StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await response.Content.ReadAsByteArrayAsync()).Should().BeEmpty();
        Directory.Exists(Path.Combine(repository.Path, "mlp")).Should().BeFalse();
        RepositoryTree.WorkAreasShouldBeEmpty(repository.Path);
        (await IndexAsync(client)).Select(entry => entry.GetProperty("name").GetString()).Should().Equal("cnn");
        using var infer = await InferMlpAsync(client, "/v2/models/mlp/infer");
        infer.StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await ErrorAsync(infer)).Should().Contain("'mlp' is not found");
        using var other = await client.GetAsync(Relative("/v2/models/cnn/ready"));
        other.StatusCode.Should().Be(HttpStatusCode.OK, "the other model still serves");
    }

    [Fact]
    public async Task ReplaceConfig_Valid_Returns204AndAppliesIt()
    {
        using var repository = MlpWithVersions();
        using var app = new RepositoryApplication(repository.Path);
        using var client = await app.CreateReadyClientAsync();
        var config = MlpConfig(maxBatchSize: 2);

        using var response = await client.PutAsync(Relative("/v2/repository/models/mlp/config"), V2Requests.Json(config));

        response.StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await File.ReadAllTextAsync(Path.Combine(repository.Path, "mlp", "config.json"))).Should().Be(config);
        using var batchOf3 = await InferMlpAsync(client, "/v2/models/mlp/infer");
        batchOf3.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await ErrorAsync(batchOf3)).Should().Contain("batch").And.Contain("2");
        using var batchOf2 = await client.PostAsync(Relative("/v2/models/mlp/infer"), V2Requests.Json(FirstRows(2)));
        batchOf2.StatusCode.Should().Be(HttpStatusCode.OK);
        (await InferReply.ReadAsync(batchOf2)).Output("logits").GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()).Should().Equal(2, 3);
        using var effective = await client.GetAsync(Relative("/v2/models/mlp/config"));
        (await effective.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("max_batch_size").GetInt32().Should().Be(2);
    }

    [Theory]
    [InlineData("\"bogus_key\": 1", "bogus_key")]
    [InlineData("\"version_policy\": {\"latest\": {\"num_versions\": 1}, \"all\": {}}", "exactly one of latest, all, specific")]
    [InlineData("\"dynamic_batching\": {\"max_queue_delay_microseconds\": 100, \"max_queue\": 8}", "config.json: unknown key 'dynamic_batching.max_queue'")]
    [InlineData("\"dynamic_batching\": {\"default_queue_policy\": {\"timeout_action\": \"DROP\"}}", "config.json: dynamic_batching.default_queue_policy.timeout_action must be")]
    [InlineData("\"dynamic_batching\": {\"preferred_batch_size\": [4]}", "config.json: dynamic_batching.preferred_batch_size[0] must be an integer from 1 to 2")]
    [InlineData("\"instance_group\": [{\"count\": 1, \"kind\": \"KIND_TPU\"}]", "config.json: instance_group[0].kind")]
    [InlineData("\"model_warmup\": [{\"batch_size\": 3, \"inputs\": {}}]", "config.json: model_warmup[0].batch_size")]
    public async Task ReplaceConfig_Invalid_Returns400NamingTheProblemAndKeepsTheOldConfig(string extra, string named)
    {
        using var repository = MlpWithVersions();
        using var app = new RepositoryApplication(repository.Path);
        using var client = await app.CreateReadyClientAsync();
        var before = RepositoryTree.Capture(repository.Path);

        using var response = await client.PutAsync(Relative("/v2/repository/models/mlp/config"), V2Requests.Json(MlpConfig(maxBatchSize: 2, extra: extra)));

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await ErrorAsync(response)).Should().Contain(named);
        RepositoryTree.ShouldBeUnchanged(before);
        await ShouldServeMlpAsync(client, "/v2/models/mlp/infer", "1");
    }

    [Theory]
    [InlineData("\"name\": \"input\"", "\"name\": \"nonexistent_input\"", "nonexistent_input")]
    [InlineData("\"dims\": [4]", "\"dims\": [5]", "input")]
    [InlineData("\"data_type\": \"TYPE_FP32\", \"dims\": [3]", "\"data_type\": \"TYPE_INT64\", \"dims\": [3]", "logits")]
    public async Task ReplaceConfig_NotMatchingTheModel_Returns400AndChangesNothing(string from, string to, string named)
    {
        using var repository = MlpWithVersions();
        using var app = new RepositoryApplication(repository.Path);
        using var client = await app.CreateReadyClientAsync();
        var before = RepositoryTree.Capture(repository.Path);
        var index = await IndexTextAsync(client);
        var config = MlpConfig(maxBatchSize: 2).Replace(from, to, StringComparison.Ordinal);
        config.Should().Contain(to);

        using var response = await client.PutAsync(Relative("/v2/repository/models/mlp/config"), V2Requests.Json(config));

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await ErrorAsync(response)).Should().Contain(named);
        RepositoryTree.ShouldBeUnchanged(before);
        (await IndexTextAsync(client)).Should().Be(index);
        await ShouldServeMlpAsync(client, "/v2/models/mlp/infer", "1");
    }

    [Theory]
    [MemberData(nameof(UnknownModelRoutes))]
    public async Task AnyRoute_UnknownModel_Returns404NamingIt(string method, string path, string? body)
    {
        var before = RepositoryTree.Capture(server.Repository.Path);

        using var response = await SendAsync(server.Client, method, path, body);

        response.StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await ErrorAsync(response)).Should().Contain("'nope'");
        RepositoryTree.ShouldBeUnchanged(before);
    }

    [Theory]
    [MemberData(nameof(UnknownLabelRoutes))]
    public async Task AnyRoute_UnknownLabelOrVersion_Returns404NamingIt(string method, string path, string? body)
    {
        var before = RepositoryTree.Capture(server.Repository.Path);

        using var response = await SendAsync(server.Client, method, path, body);

        response.StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await ErrorAsync(response)).Should().ContainAny("label 'nope'", "version 9");
        RepositoryTree.ShouldBeUnchanged(before);
    }

    /// <summary>The mlp as bundled (version 1), plus the given versions holding a plain copy of its file.</summary>
    private static TempRepository MlpWithVersions(params int[] versions)
    {
        var repository = new TempRepository().CopyModel(RepositoryPaths.Models, "mlp");
        foreach (var version in versions)
        {
            repository.WriteFile($"mlp/{version.ToString(CultureInfo.InvariantCulture)}/model.onnx", MlpFile);
        }

        return repository;
    }

    /// <summary>A version's state, reason and labels (joined by ','), comparable in one assertion.</summary>
    private static (string State, string? Reason, string Labels) State(JsonElement version) => (
        version.GetProperty("state").GetString()!,
        version.TryGetProperty("reason", out var reason) ? reason.GetString() : null,
        string.Join(",", version.GetProperty("labels").EnumerateArray().Select(label => label.GetString())));

    /// <summary>The mlp reference input cut to its first <paramref name="rows"/> rows.</summary>
    private static JsonObject FirstRows(int rows)
    {
        var input = ReferenceCase.Bundled("mlp", 1).Inputs[0];
        var data = input.Data.EnumerateArray().Take(rows * 4).Select(value => (JsonNode)value.GetDouble()).ToArray();
        return new JsonObject { ["inputs"] = new JsonArray(V2Requests.JsonInput(input.Name, input.Datatype, [rows, 4], new JsonArray(data))) };
    }

    private static async Task<HttpResponseMessage> SendAsync(HttpClient client, string method, string path, string? body)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), Relative(path))
        {
            Content = body is null ? null : new StringContent(body, Encoding.UTF8, "application/json"),
        };
        return await client.SendAsync(request);
    }
}
