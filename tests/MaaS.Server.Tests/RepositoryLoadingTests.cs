using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using MaaS.Server.Hosting;
using MaaS.Server.Tests.Infrastructure;

namespace MaaS.Server.Tests;

/// <summary>
/// How a repository on disk becomes what the server serves: broken models are UNAVAILABLE with a reason and harm no
/// other model, configs are checked or inferred, version policies select versions. Each test starts its own server
/// on its own temp repository.
/// </summary>
public sealed class RepositoryLoadingTests
{
    private static readonly byte[] NotAnOnnxFile = Enumerable.Range(0, 4096).Select(i => (byte)((i * 37) + 11)).ToArray();

    [Fact]
    public async Task Load_CorruptModelFile_VersionUnavailableWithReason()
    {
        using var repository = MlpAndCorruptModel();
        using var app = new RepositoryApplication(repository.Path);
        using var client = await app.CreateReadyClientAsync();

        var index = await IndexAsync(client);

        index.Should().ContainSingle(entry => Name(entry) == "broken");
        var broken = index.Single(entry => Name(entry) == "broken");
        broken.GetProperty("version").GetString().Should().Be("1");
        broken.GetProperty("state").GetString().Should().Be("UNAVAILABLE");
        broken.GetProperty("reason").GetString().Should().Contain("ONNX Runtime cannot load broken/1/model.onnx").And.NotContain(Path.GetTempPath());
        index.Single(entry => Name(entry) == "mlp").GetProperty("state").GetString().Should().Be("READY");
    }

    [Fact]
    public async Task Infer_OtherModelBesideCorruptOne_StillServes()
    {
        using var repository = MlpAndCorruptModel();
        using var app = new RepositoryApplication(repository.Path);
        using var client = await app.CreateReadyClientAsync();
        var reference = ReferenceCase.Bundled("mlp", 1);

        using var response = await client.PostAsync(V2Requests.InferUri("mlp"), V2Requests.Json(V2Requests.JsonBody(reference)));

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        (await InferReply.ReadAsync(response)).ShouldMatch(reference.Outputs[0], 1e-4);
    }

    [Fact]
    public async Task Infer_CorruptModel_Returns503WithReason()
    {
        using var repository = MlpAndCorruptModel();
        using var app = new RepositoryApplication(repository.Path);
        using var client = await app.CreateReadyClientAsync();

        using var response = await client.PostAsync(
            V2Requests.InferUri("broken", 1), V2Requests.Json("""{"inputs":[{"name":"x","datatype":"FP32","shape":[1],"data":[1]}]}"""));

        response.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        (await ReadErrorAsync(response)).Should().Contain("'broken'").And.Contain("UNAVAILABLE").And.Contain("cannot load");
    }

    [Fact]
    public async Task GetModelReady_CorruptModel_Returns400NotReady()
    {
        using var repository = MlpAndCorruptModel();
        using var app = new RepositoryApplication(repository.Path);
        using var client = await app.CreateReadyClientAsync();

        using var response = await client.GetAsync(new Uri("/v2/models/broken/ready", UriKind.Relative));

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await ReadErrorAsync(response)).Should().Be("Model version not ready");
    }

    [Fact]
    public async Task GetHealthReady_CorruptModelUnderStrictReadiness_Returns503()
    {
        using var repository = MlpAndCorruptModel();
        using var app = new RepositoryApplication(repository.Path);
        using var client = await app.CreateReadyClientAsync();

        using var response = await client.GetAsync(new Uri("/v2/health/ready", UriKind.Relative));

        response.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        (await ReadErrorAsync(response)).Should().Contain("not ready").And.Contain("not READY");
    }

    [Fact]
    public async Task GetHealthReady_CorruptModelWithoutStrictReadiness_Returns200()
    {
        using var repository = MlpAndCorruptModel();
        using var app = new RepositoryApplication(repository.Path, new Dictionary<string, string?> { ["MaaS:StrictReadiness"] = "false" });
        using var client = await app.CreateReadyClientAsync();

        using var response = await client.GetAsync(new Uri("/v2/health/ready", UriKind.Relative));

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        body.RootElement.GetProperty("ready").GetBoolean().Should().BeTrue();
    }

    [Theory]
    [InlineData("""{"bogus_key": 1}""", "unknown key 'bogus_key'")]
    [InlineData("""{"input": [{"name": "input", "data_type": "TYPE_FP32", "dims": [4], "shape": [4]}]}""", "unknown key 'input[0].shape'")]
    [InlineData("""{"max_batch_size": -1}""", "max_batch_size must be 0 or more")]
    [InlineData("""{"platform": "tensorflow_savedmodel"}""", "platform 'tensorflow_savedmodel'")]
    [InlineData("""{"name": "other"}""", "config.json names the model 'other'")]
    [InlineData("""{"version_policy": {"latest": {"num_versions": 1}, "all": {}}}""", "exactly one of latest, all, specific")]
    [InlineData("""{"max_batch_size": 64,""", "config.json is not valid")]
    [InlineData("""[1, 2]""", "must hold a JSON object")]
    [InlineData("""{"dynamic_batching": {"priority_levels": 2}}""", "config.json: dynamic_batching.default_priority_level must be from 1 to 2")]
    [InlineData("""{"dynamic_batching": {"foo": 1}}""", "config.json: unknown key 'dynamic_batching.foo'")]
    [InlineData("""{"instance_group": [{"count": 0}]}""", "config.json: instance_group[0].count must be an integer from 1 to 64")]
    [InlineData("""{"optimization": {"graph_optimization_level": "max"}}""", "config.json: optimization.graph_optimization_level")]
    [InlineData("""{"model_warmup": [{"inputs": {"input": {"zero_data": true, "random_data": true}}}]}""", "config.json: model_warmup[0].inputs.input may set only one")]
    public async Task Load_InvalidConfigJson_ModelUnavailableWithReason(string config, string reason)
    {
        using var repository = new TempRepository().CopyModel(RepositoryPaths.Models, "mlp").WriteFile("mlp/config.json", config);
        using var app = new RepositoryApplication(repository.Path);
        using var client = await app.CreateReadyClientAsync();

        var index = await IndexAsync(client);

        var entry = index.Should().ContainSingle().Subject;
        Name(entry).Should().Be("mlp");
        entry.GetProperty("state").GetString().Should().Be("UNAVAILABLE");
        entry.GetProperty("reason").GetString().Should().Contain(reason);
    }

    [Fact]
    public async Task Infer_ModelWithInvalidConfig_Returns503WithReason()
    {
        using var repository = new TempRepository().CopyModel(RepositoryPaths.Models, "mlp").WriteFile("mlp/config.json", """{"bogus_key": 1}""");
        using var app = new RepositoryApplication(repository.Path);
        using var client = await app.CreateReadyClientAsync();

        using var response = await client.PostAsync(
            V2Requests.InferUri("mlp"), V2Requests.Json(V2Requests.JsonBody(ReferenceCase.Bundled("mlp", 1))));

        response.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        (await ReadErrorAsync(response)).Should().Contain("'mlp'").And.Contain("bogus_key");
    }

    [Fact]
    public async Task Load_ConfigWithTritonKeyNotImplemented_LoadsAndShowsKey()
    {
        using var repository = new TempRepository().CopyModel(RepositoryPaths.Models, "mlp")
            .WriteFile("mlp/config.json", MlpConfig(config => config["response_cache"] = new JsonObject { ["enable"] = true }));
        using var app = new RepositoryApplication(repository.Path);
        using var client = await app.CreateReadyClientAsync();
        var reference = ReferenceCase.Bundled("mlp", 1);

        using var infer = await client.PostAsync(V2Requests.InferUri("mlp"), V2Requests.Json(V2Requests.JsonBody(reference)));
        using var config = await client.GetAsync(new Uri("/v2/models/mlp/config", UriKind.Relative));

        infer.StatusCode.Should().Be(HttpStatusCode.OK);
        (await InferReply.ReadAsync(infer)).ShouldMatch(reference.Outputs[0], 1e-4);
        config.StatusCode.Should().Be(HttpStatusCode.OK);
        using var body = JsonDocument.Parse(await config.Content.ReadAsStringAsync());
        body.RootElement.GetProperty("response_cache").GetProperty("enable").GetBoolean().Should().BeTrue();
    }

    [Fact]
    public async Task Load_ConfigWithTritonKeysInSections_LoadsReportsThemAndShowsThem()
    {
        using var repository = new TempRepository().CopyModel(RepositoryPaths.Models, "mlp")
            .WriteFile("mlp/config.json", MlpConfig(config =>
            {
                config["optimization"] = new JsonObject
                {
                    ["graph"] = new JsonObject { ["level"] = 1 },
                    ["execution_accelerators"] = new JsonObject { ["cpu_execution_accelerator"] = new JsonArray(new JsonObject { ["name"] = "openvino" }) },
                };
                config["instance_group"] = new JsonArray(new JsonObject { ["count"] = 1, ["kind"] = "KIND_CPU", ["rate_limiter"] = new JsonObject() });
            }));
        using var app = new RepositoryApplication(repository.Path);
        using var client = await app.CreateReadyClientAsync();

        using var infer = await client.PostAsync(V2Requests.InferUri("mlp"), V2Requests.Json(V2Requests.JsonBody(ReferenceCase.Bundled("mlp", 1))));
        using var view = await client.GetAsync(new Uri("/v2/repository/models/mlp", UriKind.Relative));
        using var config = await client.GetAsync(new Uri("/v2/models/mlp/config", UriKind.Relative));

        infer.StatusCode.Should().Be(HttpStatusCode.OK);
        var ignored = JsonDocument.Parse(await view.Content.ReadAsStringAsync()).RootElement.GetProperty("ignored_config_keys");
        ignored.EnumerateArray().Select(key => key.GetString()).Should().Equal("instance_group[0].rate_limiter", "optimization.execution_accelerators");
        var effective = JsonDocument.Parse(await config.Content.ReadAsStringAsync()).RootElement;
        effective.GetProperty("optimization").GetProperty("graph").GetProperty("level").GetInt32().Should().Be(1);
        effective.GetProperty("optimization").GetProperty("execution_accelerators").GetProperty("cpu_execution_accelerator")[0]
            .GetProperty("name").GetString().Should().Be("openvino");
    }

    [Theory]
    [InlineData("input", "features", "config input 'features' is not an input of the ONNX model, which has: input")]
    [InlineData("output", "probabilities", "config output 'probabilities' is not an output of the ONNX model, which has: logits")]
    public async Task Load_ConfigTensorNotInOnnx_VersionUnavailableWithReason(string section, string name, string reason)
    {
        using var repository = new TempRepository().CopyModel(RepositoryPaths.Models, "mlp")
            .WriteFile("mlp/config.json", MlpConfig(config => config[section]![0]!["name"] = name));
        using var app = new RepositoryApplication(repository.Path);
        using var client = await app.CreateReadyClientAsync();

        var index = await IndexAsync(client);

        var entry = index.Should().ContainSingle().Subject;
        entry.GetProperty("version").GetString().Should().Be("1");
        entry.GetProperty("state").GetString().Should().Be("UNAVAILABLE");
        entry.GetProperty("reason").GetString().Should().Contain(reason);
    }

    [Fact]
    public async Task Load_ConfigDataTypeNotMatchingOnnx_VersionUnavailableWithReason()
    {
        using var repository = new TempRepository().CopyModel(RepositoryPaths.Models, "mlp")
            .WriteFile("mlp/config.json", MlpConfig(config => config["input"]![0]!["data_type"] = "TYPE_INT64"));
        using var app = new RepositoryApplication(repository.Path);
        using var client = await app.CreateReadyClientAsync();

        var index = await IndexAsync(client);

        var entry = index.Should().ContainSingle().Subject;
        entry.GetProperty("state").GetString().Should().Be("UNAVAILABLE");
        entry.GetProperty("reason").GetString().Should().Contain("declares TYPE_INT64").And.Contain("TYPE_FP32");
    }

    [Fact]
    public async Task GetModelMetadata_ModelWithoutConfig_ShowsInferredSignature()
    {
        using var repository = new TempRepository().CopyModel(RepositoryPaths.Models, "mlp").DeleteFile("mlp/config.json");
        using var app = new RepositoryApplication(repository.Path);
        using var client = await app.CreateReadyClientAsync();

        using var response = await client.GetAsync(new Uri("/v2/models/mlp", UriKind.Relative));

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        var metadata = await response.Content.ReadFromJsonAsync<JsonElement>();
        var input = metadata.GetProperty("inputs").EnumerateArray().Should().ContainSingle().Subject;
        input.GetProperty("name").GetString().Should().Be("input");
        input.GetProperty("datatype").GetString().Should().Be("FP32");
        input.GetProperty("shape").EnumerateArray().Select(dim => dim.GetInt64()).Should().Equal(-1, 4);
        var output = metadata.GetProperty("outputs").EnumerateArray().Should().ContainSingle().Subject;
        output.GetProperty("shape").EnumerateArray().Select(dim => dim.GetInt64()).Should().Equal(-1, 3);
    }

    [Fact]
    public async Task GetModelConfig_ModelWithoutConfig_ShowsInferredMaxBatchSize()
    {
        using var repository = new TempRepository().CopyModel(RepositoryPaths.Models, "mlp").DeleteFile("mlp/config.json");
        using var app = new RepositoryApplication(repository.Path);
        using var client = await app.CreateReadyClientAsync();

        using var response = await client.GetAsync(new Uri("/v2/models/mlp/config", UriKind.Relative));

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        var config = await response.Content.ReadFromJsonAsync<JsonElement>();
        config.GetProperty("max_batch_size").GetInt32().Should().Be(64);
        config.GetProperty("input")[0].GetProperty("data_type").GetString().Should().Be("TYPE_FP32");
        config.GetProperty("input")[0].GetProperty("dims").EnumerateArray().Select(dim => dim.GetInt64()).Should().Equal(4);
    }

    [Fact]
    public async Task Infer_ModelWithoutConfig_MatchesReference()
    {
        using var repository = new TempRepository().CopyModel(RepositoryPaths.Models, "mlp").DeleteFile("mlp/config.json");
        using var app = new RepositoryApplication(repository.Path);
        using var client = await app.CreateReadyClientAsync();
        var reference = ReferenceCase.Bundled("mlp", 1);

        using var request = V2Requests.Binary(V2Requests.InferUri("mlp"), reference);
        using var response = await client.SendAsync(request);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        (await InferReply.ReadAsync(response)).ShouldMatch(reference.Outputs[0], 1e-4);
    }

    [Theory]
    [InlineData("""{"latest": {"num_versions": 2}}""", "1,2", "2")]
    [InlineData("""{"latest": {"num_versions": 5}}""", "1,2", "2")]
    [InlineData("""{"latest": {"num_versions": 1}}""", "2", "2")]
    [InlineData("""{"specific": {"versions": [1]}}""", "1", "1")]
    [InlineData("""{"specific": {"versions": [1, 3]}}""", "1", "1")]
    [InlineData("""{"all": {}}""", "1,2", "2")]
    [InlineData(null, "2", "2")]
    public async Task Load_VersionPolicy_SelectsVersions(string? policy, string versions, string latest)
    {
        using var repository = new TempRepository().CopyModel(RepositoryPaths.Models, "rnn")
            .WriteFile("rnn/config.json", RnnConfig(policy));
        using var app = new RepositoryApplication(repository.Path);
        using var client = await app.CreateReadyClientAsync();

        var index = await IndexAsync(client);
        using var metadata = await client.GetAsync(new Uri("/v2/models/rnn", UriKind.Relative));
        using var infer = await client.PostAsync(
            V2Requests.InferUri("rnn"), V2Requests.Json(V2Requests.JsonBody(ReferenceCase.Bundled("rnn", int.Parse(latest, CultureInfo.InvariantCulture)))));

        index.Select(entry => $"{Name(entry)}/{entry.GetProperty("version").GetString()} {entry.GetProperty("state").GetString()}")
            .Should().Equal(versions.Split(',').Select(version => $"rnn/{version} READY"));
        metadata.StatusCode.Should().Be(HttpStatusCode.OK);
        (await metadata.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("versions").EnumerateArray()
            .Select(version => version.GetString()).Should().Equal(versions.Split(','));
        infer.StatusCode.Should().Be(HttpStatusCode.OK);
        (await InferReply.ReadAsync(infer)).Json.GetProperty("model_version").GetString().Should().Be(latest);
    }

    [Fact]
    public async Task Infer_VersionNotSelectedByPolicy_Returns404()
    {
        using var repository = new TempRepository().CopyModel(RepositoryPaths.Models, "rnn")
            .WriteFile("rnn/config.json", RnnConfig("""{"specific": {"versions": [1]}}"""));
        using var app = new RepositoryApplication(repository.Path);
        using var client = await app.CreateReadyClientAsync();

        using var response = await client.PostAsync(
            V2Requests.InferUri("rnn", 2), V2Requests.Json(V2Requests.JsonBody(ReferenceCase.Bundled("rnn", 2))));

        response.StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await ReadErrorAsync(response)).Should().Contain("'rnn' version 2 is not found");
    }

    [Fact]
    public async Task PostRepositoryIndex_DirectoryWithoutVersionsOrConfig_IsNotListed()
    {
        using var repository = new TempRepository().CopyModel(RepositoryPaths.Models, "mlp")
            .WriteFile("tools/export_models.py", "print('not a model')\n")
            .WriteFile("tools/reference/mlp/1.json", "{}");
        using var app = new RepositoryApplication(repository.Path);
        using var client = await app.CreateReadyClientAsync();

        var index = await IndexAsync(client);
        using var metadata = await client.GetAsync(new Uri("/v2/models/tools", UriKind.Relative));

        index.Select(Name).Should().Equal("mlp");
        metadata.StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await ReadErrorAsync(metadata)).Should().Contain("'tools'");
    }

    [Fact]
    public async Task PostRepositoryIndex_ConfigWithoutVersions_ModelUnavailableWithReason()
    {
        using var repository = new TempRepository().CopyModel(RepositoryPaths.Models, "mlp")
            .WriteFile("empty/config.json", """{"name": "empty", "max_batch_size": 0}""");
        using var app = new RepositoryApplication(repository.Path);
        using var client = await app.CreateReadyClientAsync();

        var index = await IndexAsync(client);

        var entry = index.Single(entry => Name(entry) == "empty");
        entry.TryGetProperty("version", out _).Should().BeFalse();
        entry.GetProperty("state").GetString().Should().Be("UNAVAILABLE");
        entry.GetProperty("reason").GetString().Should().Contain("no version directories");
    }

    /// <summary>The bundled mlp, and a model "broken" whose version 1 is not an ONNX file.</summary>
    private static TempRepository MlpAndCorruptModel() =>
        new TempRepository().CopyModel(RepositoryPaths.Models, "mlp").WriteFile("broken/1/model.onnx", NotAnOnnxFile);

    private static string MlpConfig(Action<JsonObject> change)
    {
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(RepositoryPaths.Models, "mlp", "config.json")))!.AsObject();
        change(config);
        return config.ToJsonString();
    }

    private static string RnnConfig(string? policy)
    {
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(RepositoryPaths.Models, "rnn", "config.json")))!.AsObject();
        config.Remove("version_policy");
        if (policy is not null)
        {
            config["version_policy"] = JsonNode.Parse(policy);
        }

        return config.ToJsonString();
    }

    private static async Task<List<JsonElement>> IndexAsync(HttpClient client)
    {
        using var response = await client.PostAsync(new Uri("/v2/repository/index", UriKind.Relative), V2Requests.Raw([]));
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        var index = await response.Content.ReadFromJsonAsync<JsonElement>();
        return [.. index.EnumerateArray()];
    }

    private static string? Name(JsonElement entry) => entry.GetProperty("name").GetString();

    private static async Task<string> ReadErrorAsync(HttpResponseMessage response) =>
        (await response.Content.ReadFromJsonAsync<ErrorResponse>())!.Error;
}
