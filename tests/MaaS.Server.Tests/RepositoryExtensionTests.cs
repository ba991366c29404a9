using System.Net;
using System.Text.Json.Nodes;
using MaaS.Server.Tests.Infrastructure;
using static MaaS.Server.Tests.Infrastructure.ManagementRequests;

namespace MaaS.Server.Tests;

/// <summary>
/// Triton's repository extension: POST /v2/repository/models/{m}/load (reload from disk, or create from "config" and
/// "file:&lt;v&gt;/model.onnx" parameters) and /unload. Loads and unloads get their own repository; refused requests share
/// one server, since they must change nothing.
/// </summary>
public sealed class RepositoryExtensionTests(MlpServerFixture server) : IClassFixture<MlpServerFixture>
{
    private static readonly string MlpBase64 = Convert.ToBase64String(MlpFile);

    public static TheoryData<string, string, string> RefusedLoads()
    {
        var config = MlpConfig("fresh");
        var unknownOp = Convert.ToBase64String(File.ReadAllBytes(Path.Combine(RepositoryPaths.Root, "tests", "fixtures", "hostile", "unknown_op.onnx")));
        return new TheoryData<string, string, string>
        {
            { "fresh", """{"parameters": {"config": 5}}""", "load parameter 'config' must be a string" },
            { "mlp", """{"parameters": {"config": {"max_batch_size": 2}}}""", "load parameter 'config' must be a string" },
            { "mlp", """{"parameters": {"unload_dependents": "x"}}""", "unsupported load parameter 'unload_dependents'" },
            { "fresh", Body(("config", config), ("file:1/other.onnx", MlpBase64)), "must name 'file:<version>/model.onnx'" },
            { "fresh", Body(("config", config), ("file:0/model.onnx", MlpBase64)), "must name 'file:<version>/model.onnx'" },
            { "fresh", Body(("config", config), ("file:x/model.onnx", MlpBase64)), "must name 'file:<version>/model.onnx'" },
            { "fresh", Body(("config", config), ("file:1/2/model.onnx", MlpBase64)), "must name 'file:<version>/model.onnx'" },
            { "fresh", Body(("config", config), ("file:1/model.onnx", "!!not base64!!")), "'file:1/model.onnx' is not valid base64" },
            { "fresh", Body(("file:1/model.onnx", MlpBase64)), "file: parameters need a \"config\" parameter too" },
            { "mlp", Body(("file:2/model.onnx", MlpBase64)), "file: parameters need a \"config\" parameter too" },
            { "fresh", Body(("config", """{"bogus_key": 1}"""), ("file:1/model.onnx", MlpBase64)), "bogus_key" },
            { "fresh", Body(("config", config), ("file:1/model.onnx", unknownOp)), "NoSuchOperator" },
            { "mlp", Body(("config", MlpConfig().Replace("\"dims\": [4]", "\"dims\": [5]", StringComparison.Ordinal))), "input" },
            { "fresh", """{"parameters": [1]}""", "\"parameters\" must be an object" },
            { "fresh", """[1]""", "load request must be a JSON object" },
            { "fresh", """{"parameters": {""", "malformed JSON in load request" },
        };
    }

    [Fact]
    public async Task Load_WithConfigAndFile_CreatesModelThatServes()
    {
        using var repository = new TempRepository();
        using var app = new RepositoryApplication(repository.Path);
        using var client = await app.CreateReadyClientAsync();
        var config = MlpConfig("fresh");

        using var response = await LoadAsync(client, "fresh", Body(("config", config), ("file:1/model.onnx", MlpBase64)));

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        (await response.Content.ReadAsByteArrayAsync()).Should().BeEmpty();
        await ShouldServeMlpAsync(client, "/v2/models/fresh/infer", "1");
        (await File.ReadAllBytesAsync(Path.Combine(repository.Path, "fresh", "1", "model.onnx"))).Should().Equal(MlpFile);
        (await File.ReadAllTextAsync(Path.Combine(repository.Path, "fresh", "config.json"))).Should().Be(config);
        IndexEntry(await IndexAsync(client), "fresh", "1")!.Value.GetProperty("state").GetString().Should().Be("READY");
        RepositoryTree.WorkAreasShouldBeEmpty(repository.Path);
    }

    [Fact]
    public async Task Load_WithFilesForExistingModel_ReplacesItsVersions()
    {
        using var repository = new TempRepository().CopyModel(RepositoryPaths.Models, "mlp").WriteFile("mlp/2/model.onnx", MlpFile);
        using var app = new RepositoryApplication(repository.Path);
        using var client = await app.CreateReadyClientAsync();

        using var response = await LoadAsync(client, "mlp", Body(("config", MlpConfig()), ("file:5/model.onnx", MlpBase64)));

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        (await response.Content.ReadAsByteArrayAsync()).Should().BeEmpty();
        Directory.GetDirectories(Path.Combine(repository.Path, "mlp")).Select(Path.GetFileName).Should().Equal("5");
        await ShouldServeMlpAsync(client, "/v2/models/mlp/infer", "5");
        using var old = await InferMlpAsync(client, "/v2/models/mlp/versions/2/infer");
        old.StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await ErrorAsync(old)).Should().Contain("'mlp' version 2 is not found");
    }

    [Fact]
    public async Task Load_NoBody_ReloadsTheModelFromDisk()
    {
        using var repository = new TempRepository().CopyModel(RepositoryPaths.Models, "mlp");
        using var app = new RepositoryApplication(repository.Path);
        using var client = await app.CreateReadyClientAsync();
        await File.WriteAllTextAsync(Path.Combine(repository.Path, "mlp", "config.json"), MlpConfig(maxBatchSize: 2));
        await ShouldServeMlpAsync(client, "/v2/models/mlp/infer", "1");

        using var response = await client.PostAsync(Relative("/v2/repository/models/mlp/load"), null);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        (await response.Content.ReadAsByteArrayAsync()).Should().BeEmpty();
        using var batchOf3 = await InferMlpAsync(client, "/v2/models/mlp/infer");
        batchOf3.StatusCode.Should().Be(HttpStatusCode.BadRequest, "the reloaded config allows batches of 2");
        (await ErrorAsync(batchOf3)).Should().Contain("batch");
    }

    [Fact]
    public async Task Unload_ModelStopsServingUntilLoadedAgain()
    {
        using var repository = new TempRepository().CopyModel(RepositoryPaths.Models, "mlp");
        using var app = new RepositoryApplication(repository.Path);
        using var client = await app.CreateReadyClientAsync();
        var before = RepositoryTree.Capture(repository.Path);

        using var response = await client.PostAsync(Relative("/v2/repository/models/mlp/unload"), null);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        (await response.Content.ReadAsByteArrayAsync()).Should().BeEmpty();
        using (var ready = await client.GetAsync(Relative("/v2/models/mlp/ready")))
        {
            ready.StatusCode.Should().Be(HttpStatusCode.BadRequest);
            (await ErrorAsync(ready)).Should().Be("Model version not ready");
        }

        using (var infer = await InferMlpAsync(client, "/v2/models/mlp/infer"))
        {
            infer.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
            (await ErrorAsync(infer)).Should().Contain("'mlp'").And.Contain("unloaded");
        }

        var entry = IndexEntry(await IndexAsync(client), "mlp", "1")!.Value;
        entry.GetProperty("state").GetString().Should().Be("UNAVAILABLE");
        entry.GetProperty("reason").GetString().Should().Be("unloaded");
        (await ViewAsync(client, "mlp")).GetProperty("unloaded").GetBoolean().Should().BeTrue();
        RepositoryTree.ShouldBeUnchanged(before);

        using var load = await client.PostAsync(Relative("/v2/repository/models/mlp/load"), null);
        load.StatusCode.Should().Be(HttpStatusCode.OK);
        await ShouldServeMlpAsync(client, "/v2/models/mlp/infer", "1");
        (await ViewAsync(client, "mlp")).GetProperty("unloaded").GetBoolean().Should().BeFalse();
    }

    [Fact]
    public async Task Index_ModelCopiedInAfterStartWithoutPolling_ListedByNameUntilLoaded()
    {
        using var repository = new TempRepository().CopyModel(RepositoryPaths.Models, "mlp");
        using var app = new RepositoryApplication(repository.Path);
        using var client = await app.CreateReadyClientAsync();
        repository.CopyModel(RepositoryPaths.Models, "cnn");

        var listed = (await IndexAsync(client)).Single(entry => entry.GetProperty("name").GetString() == "cnn");

        listed.TryGetProperty("version", out _).Should().BeFalse("Triton lists a model it has not loaded by its name only");
        listed.TryGetProperty("state", out _).Should().BeFalse();
        using var load = await client.PostAsync(Relative("/v2/repository/models/cnn/load"), null);
        load.StatusCode.Should().Be(HttpStatusCode.OK);
        IndexEntry(await IndexAsync(client), "cnn", "1")!.Value.GetProperty("state").GetString().Should().Be("READY");
    }

    [Fact]
    public async Task Load_UnknownModelWithoutParameters_Returns404()
    {
        using var response = await server.Client.PostAsync(Relative("/v2/repository/models/nope/load"), V2Requests.Json("{}"));

        response.StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await ErrorAsync(response)).Should().Contain("'nope' is not found");
    }

    [Theory]
    [MemberData(nameof(RefusedLoads))]
    public async Task Load_InvalidParameters_Returns400AndChangesNothing(string model, string body, string reason)
    {
        var before = RepositoryTree.Capture(server.Repository.Path);
        var index = await IndexTextAsync(server.Client);

        using var response = await LoadAsync(server.Client, model, body);

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await ErrorAsync(response)).Should().Contain(reason);
        RepositoryTree.ShouldBeUnchanged(before);
        (await IndexTextAsync(server.Client)).Should().Be(index);
        await ShouldServeMlpAsync(server.Client, "/v2/models/mlp/infer", "1");
    }

    private static Task<HttpResponseMessage> LoadAsync(HttpClient client, string model, string body) =>
        client.PostAsync(Relative($"/v2/repository/models/{model}/load"), V2Requests.Json(body));

    /// <summary>A load request: <c>{"parameters": {name: text, ...}}</c>.</summary>
    private static string Body(params (string Name, string Value)[] parameters)
    {
        var values = new JsonObject();
        foreach (var (name, value) in parameters)
        {
            values[name] = value;
        }

        return new JsonObject { ["parameters"] = values }.ToJsonString();
    }
}
