using System.Globalization;
using System.IO.Compression;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using MaaS.Server.Hosting;
using MaaS.Server.Tests.Infrastructure;

namespace MaaS.Server.Tests;

/// <summary>Server and model metadata, config, repository index, V1 model routes, and the request options of V2 infer.</summary>
[Collection(BundledModelsGroup.Name)]
public sealed class MetadataTests(MaaSApplication app)
{
    [Fact]
    public async Task GetServerMetadata_ReturnsNameVersionAndExtensions()
    {
        using var client = await app.CreateReadyClientAsync();

        using var response = await client.GetAsync(new Uri("/v2", UriKind.Relative));

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        using var body = await ReadJsonAsync(response);
        body.RootElement.GetProperty("name").GetString().Should().Be("maas");
        body.RootElement.GetProperty("version").GetString().Should().NotBeNullOrEmpty();
        Strings(body.RootElement.GetProperty("extensions")).Should().Contain(["binary_tensor_data", "classification"]);
    }

    [Fact]
    public async Task InstanceChoice_SameCountInEffectiveConfigRegistryViewAndMetrics()
    {
        using var client = await app.CreateReadyClientAsync();

        using var config = JsonDocument.Parse(await client.GetStringAsync(new Uri("/v2/models/cnn/config", UriKind.Relative)));
        using var view = JsonDocument.Parse(await client.GetStringAsync(new Uri("/v2/repository/models/cnn", UriKind.Relative)));
        var metrics = await client.GetStringAsync(new Uri("/metrics", UriKind.Relative));

        var group = config.RootElement.GetProperty("instance_group").EnumerateArray().Should().ContainSingle().Subject;
        var count = group.GetProperty("count").GetInt32();
        var instances = view.RootElement.GetProperty("versions")[0].GetProperty("instances");
        instances.GetProperty("instances").GetInt32().Should().Be(count);
        instances.GetProperty("source").GetString().Should().Be("auto", "the bundled models have no instance_group and the server default is auto");
        instances.GetProperty("spinning").GetBoolean().Should().BeFalse("several models share the CPUs");
        var timings = instances.GetProperty("timings").EnumerateArray().ToList();
        timings.Should().HaveCount(Environment.ProcessorCount > 1 ? 2 : 0);
        timings.Should().OnlyContain(timing => timing.GetProperty("runs_per_second").GetDouble() > 0);
        instances.GetProperty("intra_op_threads").GetInt32().Should().Be(Math.Max(1, Environment.ProcessorCount / count));
        metrics.Should().Contain($"maas_model_instances{{model=\"cnn\",version=\"1\",source=\"auto\"}} {count}\n");
        metrics.Should().Contain($"maas_model_instance_threads{{model=\"cnn\",version=\"1\"}} {Math.Max(1, Environment.ProcessorCount / count)}\n");
        if (Environment.ProcessorCount > 1)
        {
            metrics.Should().Contain("maas_model_instance_choice_runs_per_second{model=\"cnn\",version=\"1\",instances=\"1\"} ");
        }

        // A lone-request session is kept only beside several instances, and uses every CPU.
        var lone = instances.TryGetProperty("lone_request_threads", out var loneThreads) ? loneThreads.GetInt32() : 0;
        if (lone > 0)
        {
            count.Should().BeGreaterThan(1);
            lone.Should().Be(Environment.ProcessorCount);
        }

        metrics.Should().Contain($"maas_model_lone_request_threads{{model=\"cnn\",version=\"1\"}} {lone}\n");
    }

    [Theory]
    [InlineData("mlp", "1", "input FP32 [-1,4]", "logits FP32 [-1,3]")]
    [InlineData("cnn", "1", "image FP32 [-1,1,28,28]", "logits FP32 [-1,10]")]
    [InlineData("rnn", "1,2", "sequence FP32 [-1,-1,8]", "output FP32 [-1,4]")]
    [InlineData("transformer", "1", "input_ids INT64 [-1,-1]; attention_mask INT64 [-1,-1]", "embedding FP32 [-1,32]; logits FP32 [-1,2]")]
    [InlineData("linear", "1", "x FP32 [-1,1]", "y FP32 [-1,1]")]
    [InlineData("logistic", "1", "x FP32 [-1,1]", "probability FP32 [-1,1]")]
    public async Task GetModelMetadata_BundledModel_DescribesVersionsInputsAndOutputs(string model, string versions, string inputs, string outputs)
    {
        using var client = await app.CreateReadyClientAsync();

        using var response = await client.GetAsync(new Uri($"/v2/models/{model}", UriKind.Relative));

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        using var body = await ReadJsonAsync(response);
        var root = body.RootElement;
        root.GetProperty("name").GetString().Should().Be(model);
        root.GetProperty("platform").GetString().Should().Be("onnxruntime_onnx");
        Strings(root.GetProperty("versions")).Should().Equal(versions.Split(','));
        Describe(root.GetProperty("inputs")).Should().Be(inputs);
        Describe(root.GetProperty("outputs")).Should().Be(outputs);
    }

    [Fact]
    public async Task GetModelMetadata_WithVersion_ListsOnlyThatVersion()
    {
        using var client = await app.CreateReadyClientAsync();

        using var response = await client.GetAsync(new Uri("/v2/models/rnn/versions/1", UriKind.Relative));

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        using var body = await ReadJsonAsync(response);
        Strings(body.RootElement.GetProperty("versions")).Should().Equal("1");
    }

    [Theory]
    [InlineData("/v2/models/mlp/ready")]
    [InlineData("/v2/models/rnn/versions/1/ready")]
    [InlineData("/v2/models/rnn/versions/2/ready")]
    public async Task GetModelReady_ReadyModel_Returns200(string path)
    {
        using var client = await app.CreateReadyClientAsync();

        using var response = await client.GetAsync(new Uri(path, UriKind.Relative));

        response.StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Theory]
    [InlineData("/v2/models/nope/ready", "Request for unknown model: 'nope' is not found")]
    [InlineData("/v2/models/rnn/versions/3/ready", "'rnn' version 3 is not found")]
    [InlineData("/v2/models/nope", "Request for unknown model: 'nope' is not found")]
    [InlineData("/v2/models/mlp/versions/9", "'mlp' version 9 is not found")]
    [InlineData("/v2/models/nope/config", "Request for unknown model: 'nope' is not found")]
    [InlineData("/v2/models/mlp/versions/9/config", "'mlp' version 9 is not found")]
    [InlineData("/v2/models/mlp/versions/latest", "Not Found")]
    public async Task GetModelRoute_UnknownModelOrVersion_Returns404WithError(string path, string named)
    {
        using var client = await app.CreateReadyClientAsync();

        using var response = await client.GetAsync(new Uri(path, UriKind.Relative));

        response.StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await ReadErrorAsync(response)).Should().Contain(named);
    }

    [Fact]
    public async Task GetModelConfig_Mlp_ReturnsTritonModelConfigJson()
    {
        using var client = await app.CreateReadyClientAsync();

        using var response = await client.GetAsync(new Uri("/v2/models/mlp/config", UriKind.Relative));

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        using var body = await ReadJsonAsync(response);
        var root = body.RootElement;
        root.GetProperty("name").GetString().Should().Be("mlp");
        root.GetProperty("max_batch_size").GetInt32().Should().Be(64);
        var input = root.GetProperty("input")[0];
        input.GetProperty("name").GetString().Should().Be("input");
        input.GetProperty("data_type").GetString().Should().Be("TYPE_FP32");
        input.GetProperty("dims").EnumerateArray().Select(dim => dim.GetInt64()).Should().Equal(4);
        root.GetProperty("output")[0].GetProperty("label_filename").GetString().Should().Be("labels.txt");
    }

    [Theory]
    [InlineData("")]
    [InlineData("{}")]
    [InlineData("{\"ready\": false}")]
    [InlineData("{\"ready\": true}")]
    public async Task PostRepositoryIndex_BundledRepository_ListsEveryVersionReady(string body)
    {
        using var client = await app.CreateReadyClientAsync();

        using var response = await client.PostAsync(new Uri("/v2/repository/index", UriKind.Relative), V2Requests.Raw(Encoding.UTF8.GetBytes(body)));

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        using var index = await ReadJsonAsync(response);
        index.RootElement.EnumerateArray()
            .Select(entry => $"{entry.GetProperty("name").GetString()}/{(entry.TryGetProperty("version", out var version) ? version.GetString() : "-")} {entry.GetProperty("state").GetString()}")
            .Should().BeEquivalentTo("cnn/1 READY", "digits/- READY", "linear/1 READY", "logistic/1 READY", "mlp/1 READY", "rnn/1 READY", "rnn/2 READY", "transformer/1 READY");
        index.RootElement.EnumerateArray().Where(entry => entry.TryGetProperty("reason", out _)).Should().BeEmpty();
    }

    [Theory]
    [InlineData("{\"ready\": \"x\"}", "\"ready\"")]
    [InlineData("{\"ready\": 1}", "\"ready\"")]
    [InlineData("[true]", "object")]
    [InlineData("{\"ready\": tr", "malformed JSON")]
    public async Task PostRepositoryIndex_BadBody_Returns400(string body, string named)
    {
        using var client = await app.CreateReadyClientAsync();

        using var response = await client.PostAsync(new Uri("/v2/repository/index", UriKind.Relative), V2Requests.Json(body));

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await ReadErrorAsync(response)).Should().Contain(named);
    }

    [Fact]
    public async Task GetV1Models_ListsEveryBundledModel()
    {
        using var client = await app.CreateReadyClientAsync();

        using var response = await client.GetAsync(new Uri("/v1/models", UriKind.Relative));

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        using var body = await ReadJsonAsync(response);
        Strings(body.RootElement.GetProperty("models")).Should().BeEquivalentTo("cnn", "linear", "logistic", "mlp", "rnn", "transformer");
    }

    [Fact]
    public async Task GetV1Model_Mlp_ReturnsNameAndReady()
    {
        using var client = await app.CreateReadyClientAsync();

        using var response = await client.GetAsync(new Uri("/v1/models/mlp", UriKind.Relative));

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        using var body = await ReadJsonAsync(response);
        body.RootElement.GetProperty("name").GetString().Should().Be("mlp");
        body.RootElement.GetProperty("ready").GetBoolean().Should().BeTrue();
    }

    [Fact]
    public async Task GetV1Model_Unknown_Returns404WithError()
    {
        using var client = await app.CreateReadyClientAsync();

        using var response = await client.GetAsync(new Uri("/v1/models/nope", UriKind.Relative));

        response.StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await ReadErrorAsync(response)).Should().Contain("'nope'");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Infer_ClassificationOnMlpLogits_ReturnsTopClassesWithLabels(bool binary)
    {
        var reference = ReferenceCase.Bundled("mlp", 1);
        var body = V2Requests.JsonBody(reference);
        body["outputs"] = new JsonArray(new JsonObject
        {
            ["name"] = "logits",
            ["parameters"] = new JsonObject { ["classification"] = 2, ["binary_data"] = binary },
        });
        using var client = await app.CreateReadyClientAsync();

        using var response = await client.PostAsync(V2Requests.InferUri("mlp"), V2Requests.Json(body));

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        var reply = await InferReply.ReadAsync(response);
        var output = reply.Output("logits");
        output.GetProperty("datatype").GetString().Should().Be("BYTES");
        output.GetProperty("shape").EnumerateArray().Select(dim => dim.GetInt64()).Should().Equal(3, 2);
        var classes = reply.Values("logits").Cast<string>().ToList();
        string[] labels = ["setosa", "versicolor", "virginica"];
        var logits = TensorValues.Of(reference.Outputs[0]).Cast<double>().ToList();
        for (var row = 0; row < 3; row++)
        {
            var expected = Enumerable.Range(0, 3).OrderByDescending(i => logits[(row * 3) + i]).Take(2).ToList();
            for (var rank = 0; rank < 2; rank++)
            {
                var parts = classes[(row * 2) + rank].Split(':');
                parts.Should().HaveCount(3);
                parts[0].Should().MatchRegex(@"^-?\d+\.\d{6}$", "values are formatted as std::to_string does");
                double.Parse(parts[0], CultureInfo.InvariantCulture).Should().BeApproximately(logits[(row * 3) + expected[rank]], 1e-4);
                parts[1].Should().Be(expected[rank].ToString(CultureInfo.InvariantCulture));
                parts[2].Should().Be(labels[expected[rank]]);
            }
        }
    }

    [Fact]
    public async Task Infer_RequestWithId_EchoesId()
    {
        var body = V2Requests.JsonBody(ReferenceCase.Bundled("mlp", 1));
        body["id"] = "request-42";
        using var client = await app.CreateReadyClientAsync();

        using var response = await client.PostAsync(V2Requests.InferUri("mlp"), V2Requests.Json(body));

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        var reply = await InferReply.ReadAsync(response);
        reply.Json.GetProperty("id").GetString().Should().Be("request-42");
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public async Task Infer_RequestWithoutId_HasNoIdInResponse(string? id)
    {
        var body = V2Requests.JsonBody(ReferenceCase.Bundled("mlp", 1));
        if (id is not null)
        {
            body["id"] = id;
        }

        using var client = await app.CreateReadyClientAsync();

        using var response = await client.PostAsync(V2Requests.InferUri("mlp"), V2Requests.Json(body));

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        var reply = await InferReply.ReadAsync(response);
        reply.Json.TryGetProperty("id", out _).Should().BeFalse();
        reply.Json.GetProperty("model_name").GetString().Should().Be("mlp");
    }

    [Fact]
    public async Task Infer_OutputsSelection_ReturnsOnlyNamedOutput()
    {
        var reference = ReferenceCase.Bundled("transformer", 1);
        var body = V2Requests.JsonBody(reference);
        body["outputs"] = new JsonArray(new JsonObject { ["name"] = "logits" });
        using var client = await app.CreateReadyClientAsync();

        using var response = await client.PostAsync(V2Requests.InferUri("transformer"), V2Requests.Json(body));

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        var reply = await InferReply.ReadAsync(response);
        reply.Outputs.Select(output => output.GetProperty("name").GetString()).Should().Equal("logits");
        reply.ShouldMatch(reference.Outputs.Single(output => output.Name == "logits"), 1e-4);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Infer_EmptyOutputsArray_ReturnsEveryOutput(bool binaryDataOutput)
    {
        var reference = ReferenceCase.Bundled("transformer", 1);
        var body = V2Requests.JsonBody(reference);
        body["outputs"] = new JsonArray();
        body["parameters"] = new JsonObject { ["binary_data_output"] = binaryDataOutput };
        using var client = await app.CreateReadyClientAsync();

        using var response = await client.PostAsync(V2Requests.InferUri("transformer"), V2Requests.Json(body));

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        var reply = await InferReply.ReadAsync(response);
        reply.Outputs.Select(output => output.GetProperty("name").GetString()).Should().BeEquivalentTo("embedding", "logits");
        reply.Binary.Should().HaveCount(binaryDataOutput ? 2 : 0);
        foreach (var expected in reference.Outputs)
        {
            reply.ShouldMatch(expected, 1e-4);
        }
    }

    [Fact]
    public async Task Infer_BinaryDataOutputWithoutOutputs_ReturnsEveryOutputBinary()
    {
        var reference = ReferenceCase.Bundled("transformer", 1);
        var body = V2Requests.JsonBody(reference);
        body["parameters"] = new JsonObject { ["binary_data_output"] = true };
        using var client = await app.CreateReadyClientAsync();

        using var response = await client.PostAsync(V2Requests.InferUri("transformer"), V2Requests.Json(body));

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/octet-stream");
        var reply = await InferReply.ReadAsync(response);
        reply.Binary.Keys.Should().BeEquivalentTo("embedding", "logits");
        foreach (var expected in reference.Outputs)
        {
            reply.ShouldMatch(expected, 1e-4);
        }
    }

    [Fact]
    public async Task Infer_ListedOutputWithoutBinaryData_IgnoresBinaryDataOutput()
    {
        // Triton: binary_data_output is the default only for outputs the request does not list.
        var reference = ReferenceCase.Bundled("transformer", 1);
        var body = V2Requests.JsonBody(reference);
        body["parameters"] = new JsonObject { ["binary_data_output"] = true };
        body["outputs"] = new JsonArray(new JsonObject { ["name"] = "logits" });
        using var client = await app.CreateReadyClientAsync();

        using var response = await client.PostAsync(V2Requests.InferUri("transformer"), V2Requests.Json(body));

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        var reply = await InferReply.ReadAsync(response);
        reply.Binary.Should().BeEmpty();
        reply.ShouldMatch(reference.Outputs.Single(output => output.Name == "logits"), 1e-4);
    }

    [Theory]
    [InlineData("gzip")]
    [InlineData("deflate")]
    public async Task Infer_CompressedBody_IsDecompressed(string encoding)
    {
        var reference = ReferenceCase.Bundled("mlp", 1);
        var json = Encoding.UTF8.GetBytes(V2Requests.JsonBody(reference).ToJsonString());
        using var compressed = new MemoryStream();
        await using (Stream compressor = encoding == "gzip"
            ? new GZipStream(compressed, CompressionLevel.Optimal, leaveOpen: true)
            : new ZLibStream(compressed, CompressionLevel.Optimal, leaveOpen: true))
        {
            await compressor.WriteAsync(json);
        }

        var content = V2Requests.Raw(compressed.ToArray());
        content.Headers.ContentEncoding.Add(encoding);
        using var client = await app.CreateReadyClientAsync();

        using var response = await client.PostAsync(V2Requests.InferUri("mlp"), content);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        (await InferReply.ReadAsync(response)).ShouldMatch(reference.Outputs[0], 1e-4);
    }

    [Fact]
    public async Task GetSwaggerJson_DescribesInferWithExample()
    {
        using var client = await app.CreateReadyClientAsync();

        using var response = await client.GetAsync(new Uri("/swagger/v1/swagger.json", UriKind.Relative));

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        using var body = await ReadJsonAsync(response);
        var paths = body.RootElement.GetProperty("paths");
        paths.TryGetProperty("/v2/models/{modelName}/infer", out var infer).Should().BeTrue();
        var example = infer.GetProperty("post").GetProperty("requestBody").GetProperty("content").GetProperty("application/json").GetProperty("example");
        example.GetProperty("inputs")[0].GetProperty("name").GetString().Should().Be("input");
        paths.TryGetProperty("/v1/models/{modelName}:predict", out _).Should().BeTrue();
    }

    private static async Task<JsonDocument> ReadJsonAsync(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync());

    private static async Task<string> ReadErrorAsync(HttpResponseMessage response) =>
        (await response.Content.ReadFromJsonAsync<ErrorResponse>())!.Error;

    private static List<string?> Strings(JsonElement array) => array.EnumerateArray().Select(item => item.GetString()).ToList();

    private static string Describe(JsonElement tensors) => string.Join("; ", tensors.EnumerateArray().Select(tensor =>
        $"{tensor.GetProperty("name").GetString()} {tensor.GetProperty("datatype").GetString()} [{string.Join(',', tensor.GetProperty("shape").EnumerateArray().Select(dim => dim.GetInt64()))}]"));
}
