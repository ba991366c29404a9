using System.Net;
using System.Text.Json;
using MaaS.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using static MaaS.Server.Tests.Infrastructure.ManagementRequests;

namespace MaaS.Server.Tests;

/// <summary>
/// POST /v2/repository/models/{m}/versions: an upload lands whole, as &lt;repo&gt;/&lt;m&gt;/&lt;v&gt;/model.onnx, and serves;
/// a refused one leaves the repository, the index and what already serves exactly as they were. Uploads that succeed
/// get their own repository; refused ones share one server, since they must change nothing.
/// </summary>
public sealed class ModelUploadTests(MlpServerFixture server) : IClassFixture<MlpServerFixture>
{
    private static readonly string HostileDirectory = Path.Combine(RepositoryPaths.Root, "tests", "fixtures", "hostile");

    public static TheoryData<string, string, string> BrokenFiles()
    {
        var data = new TheoryData<string, string, string>();
        foreach (var target in new[] { "mlp", "fresh" })
        {
            data.Add(target, "garbage", "not an ONNX model");
            data.Add(target, "empty", "the model file is empty");
            data.Add(target, "truncated", "not an ONNX model");
            data.Add(target, "external_absolute.onnx", "external data location '/etc/passwd' is refused");
            data.Add(target, "external_escape.onnx", "external data location '../../secret.bin' is refused");
            data.Add(target, "external_nested.onnx", "external data location '../../secret.bin' is refused");
            data.Add(target, "unknown_op.onnx", "NoSuchOperator");
        }

        return data;
    }

    [Fact]
    public async Task Upload_RawBodyToEmptyRepository_Returns201WithLocationHashAndSize()
    {
        using var repository = new TempRepository();
        using var app = new RepositoryApplication(repository.Path);
        using var client = await app.CreateReadyClientAsync();

        using var response = await UploadAsync(client, "fresh", MlpFile);

        response.StatusCode.Should().Be(HttpStatusCode.Created);
        response.Headers.Location!.OriginalString.Should().Be("/v2/models/fresh/versions/1");
        var body = await ReadBodyAsync(response);
        body.GetProperty("name").GetString().Should().Be("fresh");
        body.GetProperty("version").GetString().Should().Be("1");
        body.GetProperty("state").GetString().Should().Be("READY");
        body.GetProperty("sha256").GetString().Should().Be(Sha256(MlpFile));
        body.GetProperty("size_bytes").GetInt64().Should().Be(MlpFile.Length);
        (await File.ReadAllBytesAsync(Path.Combine(repository.Path, "fresh", "1", "model.onnx"))).Should().Equal(MlpFile);
        File.Exists(Path.Combine(repository.Path, "fresh", "config.json")).Should().BeFalse("no config was uploaded");
        RepositoryTree.WorkAreasShouldBeEmpty(repository.Path);
    }

    [Fact]
    public async Task Upload_MultipartWithConfig_Returns201AndWritesModelAndConfig()
    {
        using var repository = new TempRepository();
        using var app = new RepositoryApplication(repository.Path);
        using var client = await app.CreateReadyClientAsync();
        var config = MlpConfig("fresh", maxBatchSize: 8);

        using var response = await client.PostAsync(VersionsUri("fresh"), Multipart(MlpFile, config));

        response.StatusCode.Should().Be(HttpStatusCode.Created);
        response.Headers.Location!.OriginalString.Should().Be("/v2/models/fresh/versions/1");
        var body = await ReadBodyAsync(response);
        body.GetProperty("version").GetString().Should().Be("1");
        body.GetProperty("state").GetString().Should().Be("READY");
        body.GetProperty("sha256").GetString().Should().Be(Sha256(MlpFile));
        body.GetProperty("size_bytes").GetInt64().Should().Be(MlpFile.Length);
        (await File.ReadAllBytesAsync(Path.Combine(repository.Path, "fresh", "1", "model.onnx"))).Should().Equal(MlpFile);
        (await File.ReadAllTextAsync(Path.Combine(repository.Path, "fresh", "config.json"))).Should().Be(config);
        using var effective = await client.GetAsync(Relative("/v2/models/fresh/config"));
        effective.StatusCode.Should().Be(HttpStatusCode.OK);
        (await ReadBodyAsync(effective)).GetProperty("max_batch_size").GetInt32().Should().Be(8, "the uploaded config is in force");
    }

    [Fact]
    public async Task Upload_ThenInfer_MatchesMlpReference()
    {
        using var repository = new TempRepository();
        using var app = new RepositoryApplication(repository.Path);
        using var client = await app.CreateReadyClientAsync();
        using (var upload = await UploadAsync(client, "fresh", MlpFile))
        {
            upload.StatusCode.Should().Be(HttpStatusCode.Created);
        }

        await ShouldServeMlpAsync(client, "/v2/models/fresh/infer", "1");
        await ShouldServeMlpAsync(client, "/v2/models/fresh/versions/1/infer", "1");
    }

    [Fact]
    public async Task Upload_SecondTime_GetsVersion2()
    {
        using var repository = new TempRepository();
        using var app = new RepositoryApplication(repository.Path);
        using var client = await app.CreateReadyClientAsync();
        await UploadMlpAsync(client, "fresh");

        using var response = await UploadAsync(client, "fresh", MlpFile);

        response.StatusCode.Should().Be(HttpStatusCode.Created);
        response.Headers.Location!.OriginalString.Should().Be("/v2/models/fresh/versions/2");
        (await ReadBodyAsync(response)).GetProperty("version").GetString().Should().Be("2");
        Directory.GetDirectories(Path.Combine(repository.Path, "fresh")).Select(Path.GetFileName).Should().BeEquivalentTo(["1", "2"]);
        await ShouldServeMlpAsync(client, "/v2/models/fresh/infer", "2");
    }

    [Fact]
    public async Task Upload_VersionQuery_RegistersThatVersionAndNextFollowsIt()
    {
        using var repository = new TempRepository();
        using var app = new RepositoryApplication(repository.Path);
        using var client = await app.CreateReadyClientAsync();

        using var response = await UploadAsync(client, "fresh", MlpFile, "version=5");
        using var next = await UploadAsync(client, "fresh", MlpFile);

        response.StatusCode.Should().Be(HttpStatusCode.Created);
        response.Headers.Location!.OriginalString.Should().Be("/v2/models/fresh/versions/5");
        (await ReadBodyAsync(response)).GetProperty("version").GetString().Should().Be("5");
        (await File.ReadAllBytesAsync(Path.Combine(repository.Path, "fresh", "5", "model.onnx"))).Should().Equal(MlpFile);
        next.StatusCode.Should().Be(HttpStatusCode.Created);
        (await ReadBodyAsync(next)).GetProperty("version").GetString().Should().Be("6", "the next version follows the highest one");
    }

    [Fact]
    public async Task Upload_ExistingVersion_Returns409AndWritesNothing()
    {
        using var repository = new TempRepository();
        using var app = new RepositoryApplication(repository.Path);
        using var client = await app.CreateReadyClientAsync();
        await UploadMlpAsync(client, "fresh");
        var before = RepositoryTree.Capture(repository.Path);
        var index = await IndexTextAsync(client);

        using var response = await client.PostAsync(VersionsUri("fresh", "version=1"), Multipart(MlpFile, MlpConfig("fresh", 2)));

        response.StatusCode.Should().Be(HttpStatusCode.Conflict);
        (await ErrorAsync(response)).Should().Contain("'fresh' version 1 already exists");
        RepositoryTree.ShouldBeUnchanged(before);
        (await IndexTextAsync(client)).Should().Be(index);
        await ShouldServeMlpAsync(client, "/v2/models/fresh/infer", "1");
    }

    [Theory]
    [MemberData(nameof(BrokenFiles))]
    public async Task Upload_BrokenModelFile_Returns400AndChangesNothing(string target, string file, string reason)
    {
        var before = RepositoryTree.Capture(server.Repository.Path);
        var index = await IndexTextAsync(server.Client);

        using var response = await UploadAsync(server.Client, target, BrokenFile(file));

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await ErrorAsync(response)).Should().Contain(reason);
        await ShouldBeUntouchedAsync(before, index);
    }

    [Theory]
    [InlineData("..%2Fescape")]
    [InlineData("a..%2F..%2Fb")]
    [InlineData("my%20model")]
    [InlineData(".hidden")]
    [InlineData("mmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmm")]
    public async Task Upload_InvalidModelName_Returns400AndChangesNothing(string name)
    {
        var before = RepositoryTree.Capture(server.Repository.Path);
        var index = await IndexTextAsync(server.Client);

        using var response = await UploadAsync(server.Client, name, MlpFile);

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await ErrorAsync(response)).Should().Contain("is not a valid model name");
        await ShouldBeUntouchedAsync(before, index);
    }

    [Fact]
    public async Task Upload_DotDotModelName_Returns400AndChangesNothing()
    {
        var before = RepositoryTree.Capture(server.Repository.Path);
        var index = await IndexTextAsync(server.Client);

        // Straight into the server: HttpClient's Uri would resolve "..", and the request would never name the model.
        var context = await server.App.Server.SendAsync(request =>
        {
            request.Request.Method = "POST";
            request.Request.Path = "/v2/repository/models/../versions";
            request.Request.ContentType = "application/octet-stream";
            request.Request.Body = new MemoryStream(MlpFile);
        });

        context.Response.StatusCode.Should().Be(StatusCodes.Status400BadRequest);
        using var reader = new StreamReader(context.Response.Body);
        (await reader.ReadToEndAsync()).Should().Contain("'..' is not a valid model name");
        await ShouldBeUntouchedAsync(before, index);
    }

    [Theory]
    [InlineData("""{"bogus_key": 1}""", "bogus_key")]
    [InlineData("""{"input": [{"name": "input", "data_type": "TYPE_FP32", "dims": [4], "shape": [4]}]}""", "input[0].shape")]
    [InlineData("""{"max_batch_size": 64,""", "config.json is not valid")]
    [InlineData("""{"name": "other"}""", "'other'")]
    public async Task Upload_MalformedConfigPart_Returns400NamingTheProblemAndChangesNothing(string config, string named)
    {
        var before = RepositoryTree.Capture(server.Repository.Path);
        var index = await IndexTextAsync(server.Client);

        using var response = await server.Client.PostAsync(VersionsUri("fresh"), Multipart(MlpFile, config));

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await ErrorAsync(response)).Should().Contain(named);
        await ShouldBeUntouchedAsync(before, index);
    }

    [Fact]
    public async Task Upload_ConfigThatDoesNotFitTheModel_Returns400AndChangesNothing()
    {
        var before = RepositoryTree.Capture(server.Repository.Path);
        var index = await IndexTextAsync(server.Client);
        var config = MlpConfig().Replace("\"name\": \"input\"", "\"name\": \"nonexistent_input\"", StringComparison.Ordinal);

        using var response = await server.Client.PostAsync(VersionsUri("mlp"), Multipart(MlpFile, config));

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await ErrorAsync(response)).Should().Contain("nonexistent_input");
        await ShouldBeUntouchedAsync(before, index);
    }

    [Theory]
    [InlineData("version=0")]
    [InlineData("version=abc")]
    [InlineData("version=-1")]
    [InlineData("version=1.5")]
    public async Task Upload_InvalidVersionQuery_Returns400AndChangesNothing(string query)
    {
        var before = RepositoryTree.Capture(server.Repository.Path);
        var index = await IndexTextAsync(server.Client);

        using var response = await UploadAsync(server.Client, "mlp", MlpFile, query);

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await ErrorAsync(response)).Should().Contain("is not a positive integer");
        await ShouldBeUntouchedAsync(before, index);
    }

    [Fact]
    public async Task Upload_MultipartWithoutModelPart_Returns400AndChangesNothing()
    {
        var before = RepositoryTree.Capture(server.Repository.Path);
        var index = await IndexTextAsync(server.Client);
        using var content = new MultipartFormDataContent();
        content.Add(new StringContent(MlpConfig("fresh")), "config", "config.json");

        using var response = await server.Client.PostAsync(VersionsUri("fresh"), content);

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await ErrorAsync(response)).Should().Contain("no 'model' part");
        await ShouldBeUntouchedAsync(before, index);
    }

    [Fact]
    public async Task Upload_OverMaxModelBytes_Returns413AndChangesNothing()
    {
        using var repository = new TempRepository().CopyModel(RepositoryPaths.Models, "mlp");
        using var app = new RepositoryApplication(repository.Path, new Dictionary<string, string?> { ["MaaS:Limits:MaxModelBytes"] = "1024" });
        using var client = await app.CreateReadyClientAsync();
        var before = RepositoryTree.Capture(repository.Path);
        var index = await IndexTextAsync(client);

        using var response = await UploadAsync(client, "fresh", MlpFile);

        response.StatusCode.Should().Be(HttpStatusCode.RequestEntityTooLarge);
        (await ErrorAsync(response)).Should().Contain("1024 bytes").And.Contain("MaaS:Limits:MaxModelBytes");
        RepositoryTree.ShouldBeUnchanged(before);
        (await IndexTextAsync(client)).Should().Be(index);
        await ShouldServeMlpAsync(client, "/v2/models/mlp/infer", "1");
    }

    [Fact]
    public async Task Upload_ClientStreamBreaksHalfway_LeavesNothingAndKeepsServing()
    {
        var before = RepositoryTree.Capture(server.Repository.Path);
        var index = await IndexTextAsync(server.Client);

        using var client = StreamingClient();
        using var disconnect = new CancellationTokenSource();
        var staged = false;
        var content = new FailingContent(MlpFile, MlpFile.Length / 2, async () =>
        {
            staged = await StagingHoldsUploadAsync();
            await disconnect.CancelAsync();
        });

        var upload = () => client.PostAsync(VersionsUri("fresh"), content, disconnect.Token);

        await upload.Should().ThrowAsync<OperationCanceledException>();
        staged.Should().BeTrue("the server should have been streaming the first half into staging when the client broke");
        (await EventuallyAsync(() => Task.FromResult(StagingIsEmpty()), TimeSpan.FromSeconds(5)))
            .Should().BeTrue("the half upload should be removed from staging");
        await ShouldBeUntouchedAsync(before, index);
    }

    [Fact]
    public async Task Upload_MultipartStreamBreaksHalfway_LeavesNothingAndKeepsServing()
    {
        var before = RepositoryTree.Capture(server.Repository.Path);
        var index = await IndexTextAsync(server.Client);
        using var multipart = Multipart(MlpFile, MlpConfig("fresh"));
        var bytes = await multipart.ReadAsByteArrayAsync();
        using var client = StreamingClient();
        using var disconnect = new CancellationTokenSource();
        var staged = false;
        var content = new FailingContent(bytes, bytes.Length / 2, async () =>
        {
            staged = await StagingHoldsUploadAsync();
            await disconnect.CancelAsync();
        });
        content.Headers.ContentType = multipart.Headers.ContentType;

        var upload = () => client.PostAsync(VersionsUri("fresh"), content, disconnect.Token);

        await upload.Should().ThrowAsync<OperationCanceledException>();
        staged.Should().BeTrue("the server should have been streaming the first half into staging when the client broke");
        (await EventuallyAsync(() => Task.FromResult(StagingIsEmpty()), TimeSpan.FromSeconds(5)))
            .Should().BeTrue("the half upload should be removed from staging");
        await ShouldBeUntouchedAsync(before, index);
    }

    private static byte[] BrokenFile(string name) => name switch
    {
        "garbage" => Enumerable.Range(0, 4096).Select(i => (byte)((i * 37) + 11)).ToArray(),
        "empty" => [],
        "truncated" => MlpFile[..(MlpFile.Length / 2)],
        _ => File.ReadAllBytes(Path.Combine(HostileDirectory, name)),
    };

    /// <summary>
    /// A client straight on the test server. WebApplicationFactory's own client buffers request bodies (to replay them
    /// on redirects), so the server would never see half a body. The test server waits for the rest of a body whose
    /// stream failed, so the tests also cancel the request, as the end of a connection does.
    /// </summary>
    private HttpClient StreamingClient() => new(server.App.Server.CreateHandler()) { BaseAddress = server.App.Server.BaseAddress };

    private Task<bool> StagingHoldsUploadAsync() => EventuallyAsync(
        () => Task.FromResult(Directory.Exists(Path.Combine(server.Repository.Path, ".maas-staging"))
            && Directory.EnumerateFiles(Path.Combine(server.Repository.Path, ".maas-staging"), "*", SearchOption.AllDirectories).Any()),
        TimeSpan.FromSeconds(5));

    private bool StagingIsEmpty()
    {
        var staging = Path.Combine(server.Repository.Path, ".maas-staging");
        return !Directory.Exists(staging) || !Directory.EnumerateFileSystemEntries(staging).Any();
    }

    /// <summary>The repository tree and index as before, and the mlp still serving.</summary>
    private async Task ShouldBeUntouchedAsync(RepositoryTree before, string index)
    {
        RepositoryTree.ShouldBeUnchanged(before);
        (await IndexTextAsync(server.Client)).Should().Be(index);
        await ShouldServeMlpAsync(server.Client, "/v2/models/mlp/infer", "1");
    }

    private static async Task<JsonElement> ReadBodyAsync(HttpResponseMessage response)
    {
        response.Content.Headers.ContentType?.MediaType.Should().Be("application/json");
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return document.RootElement.Clone();
    }
}
