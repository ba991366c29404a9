using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using MaaS.Core.Optimization;
using MaaS.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using static MaaS.Server.Tests.Infrastructure.ManagementRequests;

namespace MaaS.Server.Tests;

/// <summary>
/// POST /v2/repository/models/{m}/versions/{v}/optimize: the derived version serves, its report agrees with what the
/// two versions answer over HTTP, is kept beside the version (also after a restart), and a result that breaks a bound,
/// or a request that cannot be carried out, leaves the repository as it was. Methods other than graph are stood in for
/// by test transforms (one copies a different model, one finds nothing to change). Refused requests share one server.
/// </summary>
public sealed class OptimizeTests(MlpServerFixture server) : IClassFixture<MlpServerFixture>
{
    private static readonly string RnnVersion2 = Path.Combine(RepositoryPaths.Models, "rnn", "2", "model.onnx");

    [Fact]
    public async Task Graph_OnTransformer_ServesANewVersionWhoseReportMatchesBothVersionsAnswers()
    {
        using var repository = WithAllVersionsServed("transformer");
        await using var app = new RepositoryApplication(repository.Path);
        using var client = await app.CreateReadyClientAsync();
        var reference = ReferenceCase.Bundled("transformer", 1);

        using var response = await OptimizeAsync(client, "transformer", 1, new JsonObject
        {
            ["method"] = "graph",
            ["inputs"] = V2Requests.JsonBody(reference)["inputs"]!.DeepClone(),
        });

        response.StatusCode.Should().Be(HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        response.Headers.Location!.OriginalString.Should().Be("/v2/models/transformer/versions/2");
        var report = await ReportAsync(response);
        report.GetProperty("model").GetString().Should().Be("transformer");
        report.GetProperty("version").GetInt64().Should().Be(2);
        report.GetProperty("source_version").GetInt64().Should().Be(1);
        report.GetProperty("method").GetString().Should().Be("graph");
        report.GetProperty("accepted").GetBoolean().Should().BeTrue();
        report.GetProperty("size_bytes").GetProperty("source").GetInt64().Should().Be(new FileInfo(Path.Combine(repository.Path, "transformer", "1", "model.onnx")).Length);
        report.GetProperty("size_bytes").GetProperty("optimized").GetInt64().Should().Be(new FileInfo(Path.Combine(repository.Path, "transformer", "2", "model.onnx")).Length);
        report.GetProperty("latency_us").GetProperty("source").GetDouble().Should().BePositive();
        report.GetProperty("latency_us").GetProperty("optimized").GetDouble().Should().BePositive();
        report.GetProperty("nodes_changed").GetInt32().Should().BePositive("the exported transformer has Identity nodes and constant subgraphs to fold");
        report.GetProperty("validation_inputs").GetProperty("source").GetString().Should().Be("request");
        report.GetProperty("validation_inputs").GetProperty("count").GetInt32().Should().Be(2, "the reference batch has two rows, run one by one");
        report.GetProperty("outputs").EnumerateObject().Select(output => output.Name).Should().BeEquivalentTo("embedding", "logits");
        report.GetProperty("outputs").GetProperty("logits").GetProperty("top1_agreement").GetDouble().Should().Be(1.0);

        // The same input through both served versions: the report's figures, recomputed.
        var source = await InferAsync(client, "/v2/models/transformer/versions/1/infer", reference);
        var optimized = await InferAsync(client, "/v2/models/transformer/versions/2/infer", reference);
        var maxAbs = 0.0;
        var minCosine = 1.0;
        foreach (var (name, width) in new[] { ("embedding", 32), ("logits", 2) })
        {
            var (outputMax, outputCosine) = Compare(source.Values(name), optimized.Values(name), width);
            report.GetProperty("outputs").GetProperty(name).GetProperty("max_abs_diff").GetDouble().Should().BeApproximately(outputMax, 1e-5, "output {0}", name);
            maxAbs = Math.Max(maxAbs, outputMax);
            minCosine = Math.Min(minCosine, outputCosine);
        }

        var accuracy = report.GetProperty("accuracy");
        accuracy.GetProperty("max_abs_diff").GetDouble().Should().BeApproximately(maxAbs, 1e-5).And.BeLessThanOrEqualTo(1e-4, "graph's default bound");
        accuracy.GetProperty("min_cosine").GetDouble().Should().BeApproximately(minCosine, 1e-6);
        optimized.Json.GetProperty("model_version").GetString().Should().Be("2");
    }

    [Fact]
    public async Task Graph_OnCnnWithLabel_MovesTheLabelAndKeepsTheReportAcrossARestart()
    {
        using var repository = WithAllVersionsServed("cnn");
        JsonElement report;
        await using (var first = new RepositoryApplication(repository.Path))
        {
            using var client = await first.CreateReadyClientAsync();
            using var response = await OptimizeAsync(client, "cnn", 1, new JsonObject { ["method"] = "graph", ["label"] = "fast" });

            response.StatusCode.Should().Be(HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
            report = await ReportAsync(response);
            report.GetProperty("validation_inputs").GetProperty("source").GetString().Should().Be("generated");
            report.GetProperty("validation_inputs").GetProperty("count").GetInt32().Should().Be(ValidationInputs.GeneratedCount);
            report.GetProperty("validation_inputs").GetProperty("generated").GetString().Should().Contain($"seed {ValidationInputs.Seed}").And.Contain("variable dims 8");
            report.GetProperty("accuracy").GetProperty("top1_agreement").GetDouble().Should().Be(1.0, "the cnn's logits have a class axis");
            using var labelled = await client.PostAsync(
                Relative("/v2/models/cnn/labels/fast/infer"), V2Requests.Json(V2Requests.JsonBody(ReferenceCase.Bundled("cnn", 1))));
            labelled.StatusCode.Should().Be(HttpStatusCode.OK);
            var reply = await InferReply.ReadAsync(labelled);
            reply.Json.GetProperty("model_version").GetString().Should().Be("2");
            reply.ShouldMatch(ReferenceCase.Bundled("cnn", 1).Outputs[0], 1e-4);
        }

        await using var second = new RepositoryApplication(repository.Path);
        using var restarted = await second.CreateReadyClientAsync();
        var view = await ViewAsync(restarted, "cnn");
        var derived = ViewVersion(view, "2").GetProperty("derived_from");
        derived.GetProperty("version").GetInt64().Should().Be(1);
        derived.GetProperty("method").GetString().Should().Be("graph");
        derived.GetProperty("accuracy").GetRawText().Should().Be(report.GetProperty("accuracy").GetRawText());
        derived.GetProperty("size_bytes").GetRawText().Should().Be(report.GetProperty("size_bytes").GetRawText());
        derived.TryGetProperty("accepted", out _).Should().BeFalse("the outcome is the version itself");
        ViewVersion(view, "2").GetProperty("labels").EnumerateArray().Select(label => label.GetString()).Should().Equal("fast");
        ViewVersion(view, "1").TryGetProperty("derived_from", out _).Should().BeFalse();
    }

    [Theory]
    [InlineData("int8", "transformer", new[] { "embedding:32", "logits:2" })]
    [InlineData("int8", "cnn", new[] { "logits:10" })]
    [InlineData("fp16", "transformer", new[] { "embedding:32", "logits:2" })]
    [InlineData("fp16", "cnn", new[] { "logits:10" })]
    public async Task Int8AndFp16_OnBundledModels_ServeAVersionWhoseReportMatchesBothVersionsAnswers(string method, string model, string[] outputs)
    {
        using var repository = WithAllVersionsServed(model);
        await using var app = new RepositoryApplication(repository.Path);
        using var client = await app.CreateReadyClientAsync();
        var reference = ReferenceCase.Bundled(model, 1);

        using var response = await OptimizeAsync(client, model, 1, new JsonObject
        {
            ["method"] = method,
            ["inputs"] = V2Requests.JsonBody(reference)["inputs"]!.DeepClone(),
        });

        response.StatusCode.Should().Be(HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        var report = await ReportAsync(response);
        report.GetProperty("method").GetString().Should().Be(method);
        report.GetProperty("nodes_changed").GetInt32().Should().BePositive();
        var optimizedBytes = new FileInfo(Path.Combine(repository.Path, model, "2", "model.onnx")).Length;
        report.GetProperty("size_bytes").GetProperty("optimized").GetInt64().Should().Be(optimizedBytes);
        optimizedBytes.Should().BeLessThan(new FileInfo(Path.Combine(repository.Path, model, "1", "model.onnx")).Length);

        // Both served versions on the same rows, one request per row as the report measures (int8 quantises the
        // activations per tensor at run time, so a row's answer depends on the rows batched with it): the report's
        // figures, recomputed; and the derived version close to PyTorch's reference outputs, not only to the source.
        var sourceRows = new List<InferReply>();
        var optimizedRows = new List<InferReply>();
        foreach (var row in RowBodies(V2Requests.JsonBody(reference)))
        {
            sourceRows.Add(await InferAsync(client, $"/v2/models/{model}/versions/1/infer", row));
            optimizedRows.Add(await InferAsync(client, $"/v2/models/{model}/versions/2/infer", row));
        }

        var optimized = await InferAsync(client, $"/v2/models/{model}/versions/2/infer", reference);
        var maxAbs = 0.0;
        var minCosine = 1.0;
        foreach (var output in outputs)
        {
            var (name, width) = (output.Split(':')[0], int.Parse(output.Split(':')[1], System.Globalization.CultureInfo.InvariantCulture));
            var (outputMax, outputCosine) = Compare(
                [.. sourceRows.SelectMany(reply => reply.Values(name))], [.. optimizedRows.SelectMany(reply => reply.Values(name))], width);
            report.GetProperty("outputs").GetProperty(name).GetProperty("max_abs_diff").GetDouble().Should().BeApproximately(outputMax, 1e-5, "output {0}", name);
            maxAbs = Math.Max(maxAbs, outputMax);
            minCosine = Math.Min(minCosine, outputCosine);
        }

        var accuracy = report.GetProperty("accuracy");
        accuracy.GetProperty("max_abs_diff").GetDouble().Should().BeApproximately(maxAbs, 1e-5);
        accuracy.GetProperty("min_cosine").GetDouble().Should().BeApproximately(minCosine, 1e-5).And.BeGreaterThanOrEqualTo(method == "int8" ? 0.98 : 0.999);
        maxAbs.Should().BePositive("{0} changes the arithmetic", method);
        foreach (var expected in reference.Outputs)
        {
            // int8's error grows with the values' range (the trained cnn's logits reach about 33): 1% of the largest.
            var largest = expected.Data.EnumerateArray().Max(value => Math.Abs(value.GetDouble()));
            optimized.ShouldMatch(expected, method == "int8" ? Math.Max(0.1, 0.01 * largest) : 1e-2);
        }
    }

    [Theory]
    [InlineData("int8", 0.35)]
    [InlineData("fp16", 0.52)]
    [InlineData("graph", 1.01)]
    public async Task EachMethod_OnAModelWithLargeMatMulWeights_ServesAVersionWhoseReportMatchesBothVersionsAnswers(string method, double maxSizeRatio)
    {
        using var repository = new TempRepository();
        Directory.CreateDirectory(Path.Combine(repository.Path, "heavy", "1"));
        MaaS.Core.Tests.Optimization.TestGraphs.Save(
            MaaS.Core.Tests.Optimization.TestGraphs.MatMulHeavy(), Path.Combine(repository.Path, "heavy", "1", "model.onnx"));
        repository.WriteFile("heavy/config.json", """{"max_batch_size": 0, "version_policy": {"all": {}}}""");
        await using var app = new RepositoryApplication(repository.Path);
        using var client = await app.CreateReadyClientAsync();
        var tokens = new JsonObject { ["name"] = "tokens", ["datatype"] = "INT64", ["shape"] = new JsonArray(2, 3), ["data"] = new JsonArray(1, 5, 999, 0, 42, 7) };

        using var response = await OptimizeAsync(client, "heavy", 1, new JsonObject { ["method"] = method, ["inputs"] = new JsonArray(tokens.DeepClone()) });

        response.StatusCode.Should().Be(HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        var report = await ReportAsync(response);
        var sourceBytes = new FileInfo(Path.Combine(repository.Path, "heavy", "1", "model.onnx")).Length;
        var optimizedBytes = new FileInfo(Path.Combine(repository.Path, "heavy", "2", "model.onnx")).Length;
        ((double)optimizedBytes / sourceBytes).Should().BeLessThanOrEqualTo(maxSizeRatio);
        report.GetProperty("size_bytes").GetProperty("source").GetInt64().Should().Be(sourceBytes);
        report.GetProperty("size_bytes").GetProperty("optimized").GetInt64().Should().Be(optimizedBytes);

        var body = new JsonObject { ["inputs"] = new JsonArray(tokens.DeepClone()) }.ToJsonString();
        var answers = new List<List<object>>();
        foreach (var version in new[] { 1, 2 })
        {
            using var infer = await client.PostAsync(Relative($"/v2/models/heavy/versions/{version}/infer"), V2Requests.Json(body));
            infer.StatusCode.Should().Be(HttpStatusCode.OK, await infer.Content.ReadAsStringAsync());
            answers.Add((await InferReply.ReadAsync(infer)).Values("logits"));
        }

        var (maxAbs, minCosine) = Compare(answers[0], answers[1], 64);
        report.GetProperty("outputs").GetProperty("logits").GetProperty("max_abs_diff").GetDouble().Should().BeApproximately(maxAbs, 1e-5);
        report.GetProperty("outputs").GetProperty("logits").GetProperty("min_cosine").GetDouble().Should().BeApproximately(minCosine, 1e-5);
        minCosine.Should().BeGreaterThan(0.99);
    }

    [Fact]
    public async Task BoundBroken_Returns422WithTheReportAndKeepsNothing()
    {
        using var repository = new TempRepository().CopyModel(RepositoryPaths.Models, "rnn");
        await using var app = WithTransforms(repository.Path, new CopyingTransform("swap", RnnVersion2));
        using var client = await app.CreateReadyClientAsync();
        var before = RepositoryTree.Capture(repository.Path);
        var reference = ReferenceCase.Bundled("rnn", 1);

        using var response = await OptimizeAsync(client, "rnn", 1, new JsonObject
        {
            ["method"] = "swap",
            ["inputs"] = V2Requests.JsonBody(reference)["inputs"]!.DeepClone(),
            ["max_abs_diff"] = 1e-6,
            ["label"] = "candidate",
        });

        response.StatusCode.Should().Be(HttpStatusCode.UnprocessableEntity);
        var report = await ReportAsync(response);
        report.GetProperty("accepted").GetBoolean().Should().BeFalse();
        report.GetProperty("version").ValueKind.Should().Be(JsonValueKind.Null);
        report.GetProperty("source_version").GetInt64().Should().Be(1);

        // What the transform wrote is rnn version 2, which this repository serves too: the figures, recomputed.
        var source = await InferAsync(client, "/v2/models/rnn/versions/1/infer", reference);
        var swapped = await InferAsync(client, "/v2/models/rnn/versions/2/infer", reference);
        var (expectedMax, expectedCosine) = Compare(source.Values("output"), swapped.Values("output"), 4);
        expectedMax.Should().BeGreaterThan(1e-3, "version 2 of the rnn has other weights");
        var accuracy = report.GetProperty("accuracy");
        accuracy.GetProperty("max_abs_diff").GetDouble().Should().BeApproximately(expectedMax, 1e-5);
        accuracy.GetProperty("min_cosine").GetDouble().Should().BeApproximately(expectedCosine, 1e-5);
        report.GetProperty("validation_inputs").GetProperty("source").GetString().Should().Be("request");
        report.GetProperty("error").GetString().Should().Contain("max_abs_diff").And.Contain("above the bound 1E-06");
        report.GetProperty("bounds").GetProperty("max_abs_diff").GetDouble().Should().Be(1e-6);
        RepositoryTree.ShouldBeUnchanged(before);
        (await ViewAsync(client, "rnn")).GetProperty("labels").EnumerateObject().Should().BeEmpty();
    }

    [Fact]
    public async Task NothingToOptimise_Returns422ErrorAndKeepsNothing()
    {
        using var repository = new TempRepository().CopyModel(RepositoryPaths.Models, "rnn");
        await using var app = WithTransforms(repository.Path, new NothingTransform());
        using var client = await app.CreateReadyClientAsync();
        var before = RepositoryTree.Capture(repository.Path);

        using var response = await OptimizeAsync(client, "rnn", 2, new JsonObject { ["method"] = "nothing" });

        response.StatusCode.Should().Be(HttpStatusCode.UnprocessableEntity);
        (await ErrorAsync(response)).Should().Be(NothingTransform.Message);
        RepositoryTree.ShouldBeUnchanged(before);
    }

    [Theory]
    [InlineData("mlp", 1, """{"method": "int4"}""", HttpStatusCode.BadRequest, "unknown optimisation method 'int4'; expected one of: fp16, graph, int8")]
    [InlineData("mlp", 1, """{"method": "graph", "speed": 2}""", HttpStatusCode.BadRequest, "unknown key \"speed\"")]
    [InlineData("mlp", 1, """{"max_abs_diff": 0.1}""", HttpStatusCode.BadRequest, "has no \"method\"")]
    [InlineData("mlp", 1, """{"method": "graph", "max_abs_diff": -1}""", HttpStatusCode.BadRequest, "\"max_abs_diff\" must be a number 0 or more")]
    [InlineData("mlp", 1, """{"method": "graph", "min_cosine": 2}""", HttpStatusCode.BadRequest, "\"min_cosine\" must be a number from -1 to 1")]
    [InlineData("mlp", 1, """{"method": "graph", "label": "../x"}""", HttpStatusCode.BadRequest, "'../x' is not a valid label name")]
    [InlineData("mlp", 1, "not json", HttpStatusCode.BadRequest, "not valid JSON")]
    [InlineData("mlp", 1, "", HttpStatusCode.BadRequest, "not valid JSON")]
    [InlineData("mlp", 1, """{"method": "graph", "inputs": {}}""", HttpStatusCode.BadRequest, "\"inputs\" must be a non-empty array")]
    [InlineData("mlp", 1, """{"method": "graph", "inputs": [{"name": "wrong", "datatype": "FP32", "shape": [1, 4], "data": [0, 0, 0, 0]}]}""", HttpStatusCode.BadRequest, "'wrong'")]
    [InlineData("mlp", 1, """{"method": "graph", "inputs": [{"name": "input", "datatype": "FP32", "shape": [1, 5], "data": [0, 0, 0, 0, 0]}]}""", HttpStatusCode.BadRequest, "[1,5]")]
    [InlineData("nope", 1, """{"method": "graph"}""", HttpStatusCode.NotFound, "'nope' is not found")]
    [InlineData("mlp", 9, """{"method": "graph"}""", HttpStatusCode.NotFound, "version 9 is not found")]
    public async Task BadRequests_AnswerTheErrorAndKeepNothing(string model, long version, string body, HttpStatusCode status, string message)
    {
        var before = RepositoryTree.Capture(server.Repository.Path);

        using var response = await server.Client.PostAsync(Relative($"/v2/repository/models/{model}/versions/{version}/optimize"), V2Requests.Json(body));

        response.StatusCode.Should().Be(status);
        (await ErrorAsync(response)).Should().Contain(message);
        RepositoryTree.ShouldBeUnchanged(before);
    }

    [Fact]
    public async Task EvictedSource_IsLoadedAgainAndOptimised_BadInputsLoadNothing_UnavailableSourceIs409()
    {
        using var repository = new TempRepository().CopyModel(RepositoryPaths.Models, "rnn").WriteFile("rnn/3/model.onnx", "not a model");
        await using var app = new RepositoryApplication(repository.Path, new Dictionary<string, string?> { ["MaaS:Sessions:MaxLoadedVersions"] = "1" });
        using var client = await app.CreateReadyClientAsync();
        var evicted = (await ViewAsync(client, "rnn")).GetProperty("versions").EnumerateArray()
            .First(version => version.TryGetProperty("reason", out var reason) && reason.GetString() == "evicted")
            .GetProperty("version").GetString()!;

        using var unavailable = await OptimizeAsync(client, "rnn", 3, new JsonObject { ["method"] = "graph" });
        using var badInputs = await client.PostAsync(
            Relative($"/v2/repository/models/rnn/versions/{evicted}/optimize"),
            V2Requests.Json("""{"method": "graph", "inputs": [{"name": "sequence", "datatype": "FP32", "shape": [1, 1, 7], "data": [0, 0, 0, 0, 0, 0, 0]}]}"""));
        var stillEvicted = ViewVersion(await ViewAsync(client, "rnn"), evicted).GetProperty("reason").GetString();
        using var optimised = await OptimizeAsync(client, "rnn", long.Parse(evicted, System.Globalization.CultureInfo.InvariantCulture), new JsonObject { ["method"] = "graph" });

        unavailable.StatusCode.Should().Be(HttpStatusCode.Conflict);
        (await ErrorAsync(unavailable)).Should().Contain("version 3 is UNAVAILABLE").And.Contain("only a READY version can be optimised");
        badInputs.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        stillEvicted.Should().Be("evicted", "inputs that do not fit are refused before the version is loaded again");
        optimised.StatusCode.Should().Be(HttpStatusCode.Created, "an evicted version is loaded again, as a request would load it: {0}", await optimised.Content.ReadAsStringAsync());
        var report = await ReportAsync(optimised);
        report.GetProperty("source_version").GetInt64().Should().Be(long.Parse(evicted, System.Globalization.CultureInfo.InvariantCulture));
        report.GetProperty("version").GetInt64().Should().Be(4);
    }

    [Fact]
    public async Task SecondOptimisationOfTheSameModel_WhileOneRuns_Returns409()
    {
        using var repository = new TempRepository().CopyModel(RepositoryPaths.Models, "rnn");
        using var gated = new GatedTransform();
        await using var app = WithTransforms(repository.Path, gated);
        using var client = await app.CreateReadyClientAsync();

        var first = OptimizeAsync(client, "rnn", 2, new JsonObject { ["method"] = "gated" });
        await gated.Entered.Task.WaitAsync(TimeSpan.FromSeconds(10));
        using var second = await OptimizeAsync(client, "rnn", 1, new JsonObject { ["method"] = "graph" });
        gated.Release();
        using var finished = await first;

        second.StatusCode.Should().Be(HttpStatusCode.Conflict);
        (await ErrorAsync(second)).Should().Contain("an optimisation of model 'rnn' is already running");
        finished.StatusCode.Should().Be(HttpStatusCode.Created, await finished.Content.ReadAsStringAsync());
        (await ReportAsync(finished)).GetProperty("version").GetInt64().Should().Be(3);
    }

    [Fact]
    public async Task ClientGoneWhileTheTransformRuns_StopsItAndKeepsNothing()
    {
        using var repository = new TempRepository().CopyModel(RepositoryPaths.Models, "rnn");
        using var gated = new GatedTransform();
        await using var app = WithTransforms(repository.Path, gated);
        using var client = await app.CreateReadyClientAsync();
        var before = RepositoryTree.Capture(repository.Path);
        using var cancellation = new CancellationTokenSource();

        var call = client.PostAsync(
            Relative("/v2/repository/models/rnn/versions/2/optimize"), V2Requests.Json("""{"method": "gated"}"""), cancellation.Token);
        await gated.Entered.Task.WaitAsync(TimeSpan.FromSeconds(10));
        await cancellation.CancelAsync();

        await FluentActions.Awaiting(() => call).Should().ThrowAsync<OperationCanceledException>();
        (await gated.Cancelled.Task.WaitAsync(TimeSpan.FromSeconds(10))).Should().BeTrue("the transform sees the request's cancellation");
        (await EventuallyAsync(() => Task.FromResult(RepositoryTree.Capture(repository.Path).Entries.SequenceEqual(before.Entries)), TimeSpan.FromSeconds(5)))
            .Should().BeTrue();
        RepositoryTree.ShouldBeUnchanged(before);
    }

    [Fact]
    public async Task RemoteCallerWithoutKey_Returns403()
    {
        using var repository = new TempRepository().CopyModel(RepositoryPaths.Models, "rnn");
        await using var app = new ConfiguredApplication(repository.Path, services =>
            services.AddSingleton<IStartupFilter>(new RemoteAddressStartupFilter(IPAddress.Parse("203.0.113.7"))));
        using var client = await app.CreateReadyClientAsync();
        var before = RepositoryTree.Capture(repository.Path);

        using var response = await OptimizeAsync(client, "rnn", 1, new JsonObject { ["method"] = "graph" });

        response.StatusCode.Should().Be(HttpStatusCode.Forbidden);
        (await ErrorAsync(response)).Should().Contain("loopback callers only");
        RepositoryTree.ShouldBeUnchanged(before);
    }

    /// <summary>A bundled model with <c>version_policy: all</c>, so that the source keeps serving beside the derived version.</summary>
    private static TempRepository WithAllVersionsServed(string model)
    {
        var repository = new TempRepository().CopyModel(RepositoryPaths.Models, model);
        var configPath = Path.Combine(repository.Path, model, "config.json");
        var config = JsonNode.Parse(File.ReadAllText(configPath))!.AsObject();
        config["version_policy"] = new JsonObject { ["all"] = new JsonObject() };
        return repository.WriteFile(Path.Combine(model, "config.json"), config.ToJsonString());
    }

    private static ConfiguredApplication WithTransforms(string repository, params IModelTransform[] transforms) =>
        new(repository, services =>
        {
            foreach (var transform in transforms)
            {
                services.AddSingleton(transform);
            }
        });

    private static Task<HttpResponseMessage> OptimizeAsync(HttpClient client, string model, long version, JsonObject body) =>
        client.PostAsync(Relative($"/v2/repository/models/{model}/versions/{version}/optimize"), V2Requests.Json(body));

    private static async Task<JsonElement> ReportAsync(HttpResponseMessage response)
    {
        response.Content.Headers.ContentType?.MediaType.Should().Be("application/json");
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return document.RootElement.Clone();
    }

    private static Task<InferReply> InferAsync(HttpClient client, string path, ReferenceCase reference) =>
        InferAsync(client, path, V2Requests.JsonBody(reference));

    /// <summary>A V2 JSON request of several rows as one request per row (batch 1), in order.</summary>
    private static IEnumerable<JsonObject> RowBodies(JsonObject body)
    {
        var inputs = body["inputs"]!.AsArray();
        var rows = (int)inputs[0]!["shape"]![0]!.GetValue<long>();
        for (var row = 0; row < rows; row++)
        {
            var rowInputs = new JsonArray();
            foreach (var input in inputs)
            {
                var shape = input!["shape"]!.AsArray().Select(dim => (int)dim!.GetValue<long>()).ToArray();
                var data = input["data"]!.AsArray();
                var width = data.Count / shape[0];
                var rowShape = new JsonArray([1, .. shape[1..].Select(dim => (JsonNode)dim)]);
                rowInputs.Add(new JsonObject
                {
                    ["name"] = input["name"]!.DeepClone(),
                    ["datatype"] = input["datatype"]!.DeepClone(),
                    ["shape"] = rowShape,
                    ["data"] = new JsonArray([.. data.Skip(row * width).Take(width).Select(value => value!.DeepClone())]),
                });
            }

            yield return new JsonObject { ["inputs"] = rowInputs };
        }
    }

    private static async Task<InferReply> InferAsync(HttpClient client, string path, JsonObject body)
    {
        using var response = await client.PostAsync(Relative(path), V2Requests.Json(body));
        response.StatusCode.Should().Be(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return await InferReply.ReadAsync(response);
    }

    /// <summary>Max |a - b| over every element, and the smallest cosine over rows of <paramref name="width"/> elements.</summary>
    private static (double MaxAbs, double MinCosine) Compare(List<object> expected, List<object> actual, int width)
    {
        expected.Should().HaveSameCount(actual);
        var a = expected.Select(Convert.ToDouble).ToArray();
        var b = actual.Select(Convert.ToDouble).ToArray();
        var maxAbs = a.Zip(b, (x, y) => Math.Abs(x - y)).Max();
        var minCosine = Enumerable.Range(0, a.Length / width).Min(row =>
        {
            var x = a.AsSpan(row * width, width).ToArray();
            var y = b.AsSpan(row * width, width).ToArray();
            return x.Zip(y, (p, q) => p * q).Sum() / Math.Sqrt(x.Sum(p => p * p) * y.Sum(q => q * q));
        });
        return (maxAbs, minCosine);
    }

    /// <summary>Stands in for a method that changes the weights: writes another model with the same inputs and outputs.</summary>
    private sealed class CopyingTransform(string method, string file) : IModelTransform
    {
        public string Method => method;

        public TransformOutcome Apply(string sourceModelPath, string destinationPath, CancellationToken cancellationToken)
        {
            File.Copy(file, destinationPath);
            return new TransformOutcome(1, 1, ["copied a different model"]);
        }
    }

    /// <summary>Copies the source once released; says when it started, and when it saw the request's cancellation.</summary>
    private sealed class GatedTransform : IModelTransform, IDisposable
    {
        private readonly ManualResetEventSlim _release = new();

        public TaskCompletionSource Entered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource<bool> Cancelled { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public string Method => "gated";

        public void Release() => _release.Set();

        public TransformOutcome Apply(string sourceModelPath, string destinationPath, CancellationToken cancellationToken)
        {
            Entered.TrySetResult();
            WaitHandle.WaitAny([_release.WaitHandle, cancellationToken.WaitHandle], TimeSpan.FromSeconds(30));
            if (cancellationToken.IsCancellationRequested)
            {
                Cancelled.TrySetResult(true);
                cancellationToken.ThrowIfCancellationRequested();
            }

            File.Copy(sourceModelPath, destinationPath);
            return new TransformOutcome(0, 1, ["copied the source"]);
        }

        public void Dispose() => _release.Dispose();
    }

    private sealed class NothingTransform : IModelTransform
    {
        public const string Message = "nothing to quantise: the model has no MatMul, Gemm or Gather over an initializer";

        public string Method => "nothing";

        public TransformOutcome Apply(string sourceModelPath, string destinationPath, CancellationToken cancellationToken) =>
            throw new NothingToOptimizeException(Message);
    }
}
