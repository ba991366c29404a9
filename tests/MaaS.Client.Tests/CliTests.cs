using System.Text;
using System.Text.Json;
using MaaS.Cli;
using MaaS.Client.Tests.Infrastructure;
using MaaS.Server.Tests.Infrastructure;

namespace MaaS.Client.Tests;

/// <summary>The maas tool end to end: its entry point, in process, against a started (in-memory) server.</summary>
public sealed class CliTests(BundledServer server) : IClassFixture<BundledServer>, IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("maas-cli-tests-").FullName;

    [Fact]
    public async Task Infer_FromNpy_JsonOutputEqualsHttpAnswer()
    {
        var values = new[] { 5.1f, 3.5f, 1.4f, 0.2f, 6.7f, 3.1f, 4.4f, 1.4f };
        var npy = Path.Combine(_directory, "x.npy");
        await File.WriteAllBytesAsync(npy, NpyFile.Write(new InferOutput("x", "FP32", [2, 4], System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()).ToArray())));

        var (code, stdout, stderr) = await RunAsync(server.App, "infer", "mlp", "--input", "input=" + npy, "--output", "json");

        code.Should().Be(0, stderr);
        using var cli = JsonDocument.Parse(stdout);
        var body = "{\"inputs\": [{\"name\": \"input\", \"datatype\": \"FP32\", \"shape\": [2, 4], \"data\": [5.1, 3.5, 1.4, 0.2, 6.7, 3.1, 4.4, 1.4]}]}";
        using var answer = await server.Raw.PostAsync("/v2/models/mlp/infer", new StringContent(body, Encoding.UTF8, "application/json"));
        using var http = JsonDocument.Parse(await answer.Content.ReadAsStringAsync());
        cli.RootElement.GetProperty("model_name").GetString().Should().Be("mlp");
        var cliOutput = cli.RootElement.GetProperty("outputs")[0];
        var httpOutput = http.RootElement.GetProperty("outputs")[0];
        cliOutput.GetProperty("name").GetString().Should().Be(httpOutput.GetProperty("name").GetString());
        cliOutput.GetProperty("shape").GetRawText().Should().Be(httpOutput.GetProperty("shape").GetRawText());
        cliOutput.GetProperty("data").EnumerateArray().Select(e => e.GetSingle())
            .Should().Equal(httpOutput.GetProperty("data").EnumerateArray().Select(e => e.GetSingle()));
    }

    [Fact]
    public async Task Infer_FromNestedJson_WritesNpyOutputs()
    {
        var json = Path.Combine(_directory, "x.json");
        await File.WriteAllTextAsync(json, "[[5.1, 3.5, 1.4, 0.2]]");
        var outDirectory = Path.Combine(_directory, "out");

        var (code, stdout, stderr) = await RunAsync(server.App, "infer", "mlp", "--version", "1", "-i", "input=" + json, "--out", outDirectory);

        code.Should().Be(0, stderr);
        stdout.Should().Contain("logits");
        var (datatype, shape, data) = NpyFile.Read(await File.ReadAllBytesAsync(Path.Combine(outDirectory, "logits.npy")), "logits.npy");
        datatype.Should().Be("FP32");
        shape.Should().Equal(1, 3);
        data.Should().HaveCount(12);
    }

    [Fact]
    public async Task Infer_FromStdinWithShape_Works()
    {
        var (code, stdout, stderr) = await RunWithStdinAsync(server.App, "[5.1, 3.5, 1.4, 0.2]", "infer", "mlp", "-i", "input=-", "--shape", "input=1,4", "-o", "json");

        code.Should().Be(0, stderr);
        JsonDocument.Parse(stdout).RootElement.GetProperty("outputs")[0].GetProperty("shape").GetRawText().Should().Be("[1,3]");
    }

    [Fact]
    public async Task Models_Json_ParsesBackToTheIndex()
    {
        var (code, stdout, stderr) = await RunAsync(server.App, "models", "--output", "json");

        code.Should().Be(0, stderr);
        var entries = JsonDocument.Parse(stdout).RootElement.EnumerateArray().ToList();
        entries.Should().Contain(e => e.GetProperty("name").GetString() == "mlp" && e.GetProperty("state").GetString() == "READY");
    }

    [Fact]
    public async Task ModelAndStats_Table_ShowTheModel()
    {
        var (code, stdout, stderr) = await RunAsync(server.App, "model", "cnn");
        code.Should().Be(0, stderr);
        stdout.Should().Contain("READY").And.Contain("input");

        (code, stdout, stderr) = await RunAsync(server.App, "stats", "mlp", "-o", "json");
        code.Should().Be(0, stderr);
        JsonDocument.Parse(stdout).RootElement.GetProperty("model_stats")[0].GetProperty("name").GetString().Should().Be("mlp");
    }

    [Fact]
    public async Task BadModelName_Exits1WithOneLine()
    {
        var json = Path.Combine(_directory, "x.json");
        await File.WriteAllTextAsync(json, "[[1, 2, 3, 4]]");

        var (code, _, stderr) = await RunAsync(server.App, "infer", "nope", "-i", "input=" + json);

        code.Should().Be(1);
        stderr.Trim().Should().StartWith("error: 404").And.NotContain("\n");
    }

    [Theory]
    [InlineData("missing.json", null)]
    [InlineData("bad.json", "[[1, 2,")]
    [InlineData("bad.npy", "\u0093NUMPY garbage")]
    public async Task BadInputFile_Exits2(string file, string? content)
    {
        var path = Path.Combine(_directory, file);
        if (content is not null)
        {
            await File.WriteAllTextAsync(path, content, Encoding.Latin1);
        }

        var (code, _, stderr) = await RunAsync(server.App, "infer", "mlp", "-i", "input=" + path);

        code.Should().Be(2);
        stderr.Should().StartWith("error: ").And.Contain(file);
    }

    [Fact]
    public async Task ParseError_Exits2()
    {
        (await RunAsync(server.App, "infer", "mlp")).Code.Should().Be(2);
        (await RunAsync(server.App, "models", "--output", "yaml")).Code.Should().Be(2);
        (await RunAsync(server.App, "label", "mlp", "stable", "one")).Code.Should().Be(2);
    }

    [Fact]
    public async Task UnreachableServer_Exits1WithOneLine()
    {
        var output = new StringWriter();
        var error = new StringWriter();

        var code = await CliApp.RunAsync(["models", "--url", "http://127.0.0.1:9"], output, error, Stream.Null, handler: null, CancellationToken.None);

        code.Should().Be(1);
        error.ToString().Trim().Should().StartWith("error: cannot reach the server").And.NotContain("\n");
    }

    [Fact]
    public async Task Upload_WithLabel_ServesByLabel()
    {
        using var repository = new TempRepository().CopyModel(RepositoryPaths.Models, "mlp");
        using var app = new RepositoryApplication(repository.Path);
        using var raw = await app.CreateReadyClientAsync();
        var onnx = Path.Combine(RepositoryPaths.Models, "mlp", "1", "model.onnx");

        var (code, stdout, stderr) = await RunAsync(app, "upload", "mlp", onnx, "--label", "stable", "-o", "json");

        code.Should().Be(0, stderr);
        JsonDocument.Parse(stdout).RootElement.GetProperty("version").GetRawText().Trim('"').Should().Be("2");
        var view = await raw.GetStringAsync("/v2/repository/models/mlp");
        JsonDocument.Parse(view).RootElement.GetProperty("labels").GetProperty("stable").GetRawText().Should().Contain("2");

        (code, stdout, stderr) = await RunAsync(app, "unload", "mlp");
        code.Should().Be(0, stderr);
        (code, _, stderr) = await RunAsync(app, "load", "mlp");
        code.Should().Be(0, stderr);
        (code, _, stderr) = await RunAsync(app, "delete", "mlp", "2");
        code.Should().Be(1, "a labelled version cannot be deleted");
        stderr.Should().StartWith("error: 409");
    }

    [Fact]
    public async Task Bench_ShortRun_ReportsThroughputLatencyAndServerTimes()
    {
        var (code, stdout, stderr) = await RunAsync(server.App, "bench", "mlp", "--concurrency", "1,2", "--duration", "300ms", "--warmup", "100ms", "-o", "json");

        code.Should().Be(0, stderr);
        var rows = JsonDocument.Parse(stdout).RootElement.EnumerateArray().ToList();
        rows.Select(r => r.GetProperty("concurrency").GetDouble()).Should().Equal(1, 2);
        foreach (var row in rows)
        {
            row.GetProperty("requests").GetDouble().Should().BePositive();
            row.GetProperty("throughput_per_s").GetDouble().Should().BePositive();
            row.GetProperty("p50_ms").GetDouble().Should().BeLessThanOrEqualTo(row.GetProperty("p99_ms").GetDouble());
            row.GetProperty("server_compute_ms").GetDouble().Should().BeGreaterThan(0);
        }

        (await RunAsync(server.App, "bench", "mlp", "--duration", "soon")).Code.Should().Be(2);
    }

    [Fact]
    public async Task Bench_InputFromFile_IsWhatTheServerRuns()
    {
        var json = Path.Combine(_directory, "batch.json");
        await File.WriteAllTextAsync(json, "[[5.1, 3.5, 1.4, 0.2], [6.7, 3.1, 4.4, 1.4], [6.3, 3.3, 6.0, 2.5]]");
        var before = (await server.Client.GetStatisticsAsync("mlp")).ModelStats.Sum(m => m.InferenceCount);
        var requestsBefore = (await server.Client.GetStatisticsAsync("mlp")).ModelStats.Sum(m => m.InferenceStats.Success.Count);

        var (code, stdout, stderr) = await RunAsync(server.App, "bench", "mlp", "--input", "input=" + json, "--duration", "200ms", "--warmup", "0s", "-o", "json");

        code.Should().Be(0, stderr);
        var stats = await server.Client.GetStatisticsAsync("mlp");
        var rows = stats.ModelStats.Sum(m => m.InferenceCount) - before;
        var requests = stats.ModelStats.Sum(m => m.InferenceStats.Success.Count) - requestsBefore;
        requests.Should().BePositive();
        rows.Should().Be(3 * requests, "every request carried the file's three rows");
        JsonDocument.Parse(stdout).RootElement[0].GetProperty("requests").GetDouble().Should().BePositive();

        (await RunAsync(server.App, "bench", "mlp", "--input", "input=" + Path.Combine(_directory, "missing.json"))).Code.Should().Be(2);
        (await RunAsync(server.App, "bench", "mlp", "--input", "nope=" + json)).Code.Should().Be(2);
    }

    [Fact]
    public async Task Explain_Json_IsTheServersAnswer_AndOutWritesNpy()
    {
        var json = Path.Combine(_directory, "iris.json");
        await File.WriteAllTextAsync(json, "[[6.7, 3.1, 4.4, 1.4]]");
        var outDirectory = Path.Combine(_directory, "attributions");

        var (code, stdout, stderr) = await RunAsync(server.App, "explain", "mlp", "-i", "input=" + json, "--method", "shapley",
            "--target-output", "logits", "--target-index", "2", "--out", outDirectory, "-o", "json");

        code.Should().Be(0, stderr);
        var body = "{\"inputs\": [{\"name\": \"input\", \"datatype\": \"FP32\", \"shape\": [1, 4], \"data\": [6.7, 3.1, 4.4, 1.4]}],"
            + " \"parameters\": {\"method\": \"shapley\", \"target\": {\"output\": \"logits\", \"index\": 2}}}";
        using var answer = await server.Raw.PostAsync("/v2/models/mlp/explain", new StringContent(body, Encoding.UTF8, "application/json"));
        using var http = JsonDocument.Parse(await answer.Content.ReadAsStringAsync());
        using var cli = JsonDocument.Parse(stdout);
        cli.RootElement.GetProperty("parameters").GetRawText().Should().Be(http.RootElement.GetProperty("parameters").GetRawText());
        var expected = http.RootElement.GetProperty("outputs")[0].GetProperty("data").EnumerateArray().Select(e => e.GetSingle()).ToList();
        cli.RootElement.GetProperty("outputs")[0].GetProperty("data").EnumerateArray().Select(e => e.GetSingle()).Should().Equal(expected);
        var (datatype, shape, data) = NpyFile.Read(await File.ReadAllBytesAsync(Path.Combine(outDirectory, "input.npy")), "input.npy");
        datatype.Should().Be("FP32");
        shape.Should().Equal(1, 4);
        System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(data).ToArray().Should().Equal(expected);
    }

    [Fact]
    public async Task Explain_Table_ShowsMethodTargetAndAttributions()
    {
        var json = Path.Combine(_directory, "iris.json");
        await File.WriteAllTextAsync(json, "[[6.7, 3.1, 4.4, 1.4]]");

        var (code, stdout, stderr) = await RunAsync(server.App, "explain", "mlp", "-i", "input=" + json, "--target-index", "2", "--samples", "64", "--seed", "3");

        code.Should().Be(0, stderr);
        stdout.Should().Contain("shapley (exact)").And.Contain("logits [2]").And.Contain("evaluations").And.Contain("input").And.Contain("[1, 4]");
    }

    [Fact]
    public async Task Explain_Errors_Exit1ForTheServer_2ForUsage()
    {
        var json = Path.Combine(_directory, "iris.json");
        await File.WriteAllTextAsync(json, "[[6.7, 3.1, 4.4, 1.4]]");

        var (code, _, stderr) = await RunAsync(server.App, "explain", "mlp", "-i", "input=" + json, "--target-output", "nope");
        code.Should().Be(1);
        stderr.Should().StartWith("error: 400");
        (await RunAsync(server.App, "explain", "nope", "-i", "input=" + json)).Code.Should().Be(1);
        (await RunAsync(server.App, "explain", "mlp", "-i", "input=" + json, "--method", "lime")).Code.Should().Be(2);
        (await RunAsync(server.App, "explain", "mlp", "-i", "input=" + json, "--window", "0")).Code.Should().Be(2);
        (await RunAsync(server.App, "explain", "mlp", "-i", "input=" + Path.Combine(_directory, "missing.json"))).Code.Should().Be(2);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task Transport_Grpc_InferJsonEqualsHttp()
    {
        using var repository = new TempRepository().CopyModel(RepositoryPaths.Models, "mlp");
        await using var app = new GrpcApplication(repository.Path);
        (await app.CreateReadyClientAsync()).Dispose();
        var json = Path.Combine(_directory, "x.json");
        await File.WriteAllTextAsync(json, "[[5.1, 3.5, 1.4, 0.2]]");
        var grpcUrl = app.Server.BaseAddress.ToString();

        var (code, stdout, stderr) = await RunAsync(app, "infer", "mlp", "-i", "input=" + json, "-o", "json", "--transport", "grpc", "--grpc-url", grpcUrl);
        var (httpCode, httpStdout, _) = await RunAsync(app, "infer", "mlp", "-i", "input=" + json, "-o", "json");

        code.Should().Be(0, stderr);
        httpCode.Should().Be(0);
        stdout.Should().Be(httpStdout, "infer --output json prints the same V2 JSON whatever the transport");
        (code, stdout, stderr) = await RunAsync(app, "stats", "mlp", "--transport", "grpc", "--grpc-url", grpcUrl);
        code.Should().Be(0, stderr);
        stdout.Should().Contain("mlp");
        (await RunAsync(app, "models", "--transport", "carrier-pigeon")).Code.Should().Be(2);
    }

    internal static Task<(int Code, string Stdout, string Stderr)> RunAsync(MaaSApplication app, params string[] args) => RunWithStdinAsync(app, "", args);

    internal static async Task<(int Code, string Stdout, string Stderr)> RunWithStdinAsync(MaaSApplication app, string stdin, params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        using var input = new MemoryStream(Encoding.UTF8.GetBytes(stdin));
        using var handler = app.Server.CreateHandler();
        var code = await CliApp.RunAsync([.. args, "--url", app.Server.BaseAddress.ToString()], output, error, input, handler, CancellationToken.None);
        return (code, output.ToString(), error.ToString());
    }
}
