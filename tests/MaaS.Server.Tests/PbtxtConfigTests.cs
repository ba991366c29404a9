using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using MaaS.Server.Hosting;
using MaaS.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Serilog.Core;
using Serilog.Events;
using static MaaS.Server.Tests.Infrastructure.ManagementRequests;

namespace MaaS.Server.Tests;

/// <summary>
/// config.pbtxt models that cannot be served are UNAVAILABLE with the reason; changes through the API keep
/// config.pbtxt as Triton reads it (the server's additions go to maas.json). Each test starts its own server.
/// </summary>
public sealed class PbtxtConfigTests
{
    private const string NoBatch = "no_batch";

    [Theory]
    [InlineData("name: \"no_batch\"\nmax_batch_size: 0\ninput {\n  name: \"x\"\n  dims: [2, 3\n}\n", "config.pbtxt line 6, column 1: expected ',' or ']' in the list of 'dims'")]
    [InlineData("name: \"no_batch\"\ninput { name: \"x\" data_type: FLOAT }", "config.pbtxt line 2, column 30: expected one of TYPE_INVALID")]
    [InlineData("# Triton has no 'labels'\nlabels { key: \"stable\" value: 1 }", "config.pbtxt line 2, column 1: expected a field of ModelConfig (")]
    [InlineData("max_batch_size: 4\nmax_batch_size: 8", "config.pbtxt line 2, column 1: expected 'max_batch_size' once")]
    [InlineData("name: \"no_batch\" platform: \"tensorrt_plan\"", "config.pbtxt: platform 'tensorrt_plan' is not served here; expected 'onnxruntime_onnx'")]
    [InlineData("backend: \"python\"", "config.pbtxt: backend 'python' is not served here; expected 'onnxruntime'")]
    [InlineData("name: \"other\"", "config.pbtxt names the model 'other', but its directory is 'no_batch'")]
    public async Task Load_ConfigPbtxtThatCannotBeServed_UnavailableWithReason(string pbtxt, string reason)
    {
        using var repository = new TempRepository().CopyModel(RepositoryPaths.Pbtxt, NoBatch).WriteFile($"{NoBatch}/config.pbtxt", pbtxt);
        using var app = new RepositoryApplication(repository.Path);
        using var client = await app.CreateReadyClientAsync();

        var entry = (await IndexAsync(client)).Should().ContainSingle().Subject;
        using var view = await client.GetAsync(Relative($"/v2/repository/models/{NoBatch}"));

        entry.GetProperty("state").GetString().Should().Be("UNAVAILABLE");
        entry.GetProperty("reason").GetString().Should().StartWith(reason);
        JsonDocument.Parse(await view.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetString().Should().StartWith(reason);
    }

    [Fact]
    public async Task Load_ConfigPbtxtFailingWhenTheVersionLoads_ReasonNamesConfigPbtxt()
    {
        const string Warmup = "name: \"no_batch\"\nmodel_warmup { name: \"w\" batch_size: 1 inputs { key: \"nope\" value { data_type: TYPE_FP32 dims: [2, 3] zero_data: true } } }";
        using var repository = new TempRepository().CopyModel(RepositoryPaths.Pbtxt, NoBatch).WriteFile($"{NoBatch}/config.pbtxt", Warmup);
        using var app = new RepositoryApplication(repository.Path);
        using var client = await app.CreateReadyClientAsync();

        var entry = (await IndexAsync(client)).Should().ContainSingle().Subject;

        entry.GetProperty("version").GetString().Should().Be("1");
        entry.GetProperty("state").GetString().Should().Be("UNAVAILABLE");
        entry.GetProperty("reason").GetString().Should().Be("config.pbtxt: model_warmup[0].inputs has no entry for input 'x'");
    }

    [Fact]
    public async Task Load_ConfigJsonBesideConfigPbtxt_ConfigJsonWinsAndItIsLogged()
    {
        using var sink = new CapturingLogSink(e => e.MessageTemplate.Text.Contains("config.pbtxt is not", StringComparison.Ordinal));
        using var repository = new TempRepository().CopyModel(RepositoryPaths.Pbtxt, NoBatch)
            .WriteFile($"{NoBatch}/config.pbtxt", "this is not read")
            .WriteFile($"{NoBatch}/config.json", await File.ReadAllBytesAsync(Path.Combine(RepositoryPaths.PbtxtTwins, NoBatch + ".json")));
        using var app = new ConfiguredApplication(repository.Path, services => services.AddSingleton<ILogEventSink>(sink));
        using var client = await app.CreateReadyClientAsync();

        var entry = (await IndexAsync(client)).Should().ContainSingle().Subject;
        var line = await sink.Matched.WaitAsync(TimeSpan.FromSeconds(30));

        entry.GetProperty("state").GetString().Should().Be("READY");
        line.Level.Should().Be(LogEventLevel.Warning);
        line.RenderMessage(CultureInfo.InvariantCulture).Should().Be(
            "Model \"no_batch\": config.json and config.pbtxt both exist; config.json is read and config.pbtxt is not");
    }

    [Fact]
    public async Task PutConfig_PbtxtModelAsTextPlain_WritesConfigPbtxtAndKeepsMaasJson()
    {
        using var repository = new TempRepository().CopyModel(RepositoryPaths.Pbtxt, NoBatch);
        using var app = new RepositoryApplication(repository.Path);
        using var client = await app.CreateReadyClientAsync();
        const string Replacement = "name: \"no_batch\"\nmax_batch_size: 0\nparameters { key: \"owner\" value { string_value: \"vision\" } }\n";

        using var response = await client.PutAsync(Relative($"/v2/repository/models/{NoBatch}/config"), new StringContent(Replacement, Encoding.UTF8, "text/plain"));

        response.StatusCode.Should().Be(HttpStatusCode.NoContent, await response.Content.ReadAsStringAsync());
        (await File.ReadAllTextAsync(Path.Combine(repository.Path, NoBatch, "config.pbtxt"))).Should().Be(Replacement);
        File.Exists(Path.Combine(repository.Path, NoBatch, "config.json")).Should().BeFalse();
        using var config = await client.GetAsync(Relative($"/v2/models/{NoBatch}/config"));
        var effective = JsonDocument.Parse(await config.Content.ReadAsStringAsync()).RootElement;
        effective.GetProperty("parameters").GetProperty("owner").GetProperty("string_value").GetString().Should().Be("vision");
        effective.GetProperty("labels").GetProperty("stable").GetInt64().Should().Be(1, "maas.json's labels stay");
    }

    [Fact]
    public async Task PutConfig_TextPlainOnModelWithoutConfig_WritesConfigPbtxt()
    {
        using var repository = new TempRepository().CopyModel(RepositoryPaths.Zoo, "no_batch_inferred");
        using var app = new RepositoryApplication(repository.Path);
        using var client = await app.CreateReadyClientAsync();

        using var response = await client.PutAsync(
            Relative("/v2/repository/models/no_batch_inferred/config"), new StringContent("max_batch_size: 0\nversion_policy { all { } }\n", Encoding.UTF8, "text/plain"));

        response.StatusCode.Should().Be(HttpStatusCode.NoContent, await response.Content.ReadAsStringAsync());
        File.Exists(Path.Combine(repository.Path, "no_batch_inferred", "config.pbtxt")).Should().BeTrue();
        File.Exists(Path.Combine(repository.Path, "no_batch_inferred", "config.json")).Should().BeFalse();
        using var config = await client.GetAsync(Relative("/v2/models/no_batch_inferred/config"));
        JsonDocument.Parse(await config.Content.ReadAsStringAsync()).RootElement.GetProperty("version_policy").TryGetProperty("all", out _).Should().BeTrue();
    }

    [Fact]
    public async Task PutConfig_MalformedPbtxt_400WithLineAndColumnAndNothingWritten()
    {
        using var repository = new TempRepository().CopyModel(RepositoryPaths.Pbtxt, NoBatch);
        var before = await File.ReadAllBytesAsync(Path.Combine(repository.Path, NoBatch, "config.pbtxt"));
        using var app = new RepositoryApplication(repository.Path);
        using var client = await app.CreateReadyClientAsync();

        using var response = await client.PutAsync(Relative($"/v2/repository/models/{NoBatch}/config"), new StringContent("max_batch_size: x", Encoding.UTF8, "text/plain"));

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await response.Content.ReadFromJsonAsync<ErrorResponse>())!.Error.Should().Be("config.pbtxt line 1, column 17: expected a 32-bit integer for 'max_batch_size', not 'x'");
        (await File.ReadAllBytesAsync(Path.Combine(repository.Path, NoBatch, "config.pbtxt"))).Should().Equal(before);
    }

    [Fact]
    public async Task PutConfig_JsonOnPbtxtModel_400AskingForPbtxt()
    {
        using var repository = new TempRepository().CopyModel(RepositoryPaths.Pbtxt, NoBatch);
        using var app = new RepositoryApplication(repository.Path);
        using var client = await app.CreateReadyClientAsync();

        using var response = await client.PutAsync(Relative($"/v2/repository/models/{NoBatch}/config"), V2Requests.Json("""{"max_batch_size": 0}"""));

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await response.Content.ReadFromJsonAsync<ErrorResponse>())!.Error.Should().Contain("configured by config.pbtxt").And.Contain("text/plain");
        File.Exists(Path.Combine(repository.Path, NoBatch, "config.json")).Should().BeFalse();
    }

    [Fact]
    public async Task SetLabel_PbtxtModel_WritesMaasJsonAndLeavesConfigPbtxtUntouched()
    {
        using var repository = new TempRepository().CopyModel(RepositoryPaths.Pbtxt, NoBatch);
        var pbtxt = await File.ReadAllBytesAsync(Path.Combine(repository.Path, NoBatch, "config.pbtxt"));
        using var app = new RepositoryApplication(repository.Path);
        using var client = await app.CreateReadyClientAsync();

        using var response = await SetLabelAsync(client, NoBatch, "canary", 1);

        response.StatusCode.Should().Be(HttpStatusCode.NoContent, await response.Content.ReadAsStringAsync());
        (await File.ReadAllBytesAsync(Path.Combine(repository.Path, NoBatch, "config.pbtxt"))).Should().Equal(pbtxt);
        var additions = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(repository.Path, NoBatch, "maas.json"))).RootElement;
        additions.GetProperty("labels").GetProperty("canary").GetInt64().Should().Be(1);
        additions.GetProperty("labels").GetProperty("stable").GetInt64().Should().Be(1);
    }
}
