using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using MaaS.Core.Sessions;
using MaaS.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace MaaS.Server.Tests;

/// <summary>
/// The <c>parameters</c> Triton's ONNX Runtime backend reads (intra_op_thread_count, execution_mode, ...) build the
/// sessions, from config.json and config.pbtxt alike: the effective thread count shows in the registry view and in
/// /metrics; ours in <c>optimization</c> win; Triton's count is held to the CPU budget (8 CPUs here); the other
/// parameters are reported as ignored; a value the backend would refuse makes the model UNAVAILABLE with the reason.
/// </summary>
public sealed class TritonOnnxParametersTests
{
    private const int Cpus = 8;

    [Fact]
    public async Task Load_TritonParameters_SetTheSessionsThreads_OursWin_AndTheRestAreIgnored()
    {
        using var repository = new TempRepository()
            .CopyModel(RepositoryPaths.Models, "mlp", "triton")
            .WriteFile("triton/config.json", Config("triton", 1, """{"intra_op_thread_count": {"string_value": "3"}, "execution_mode": {"string_value": "1"}, "cudnn_conv_algo_search": {"string_value": "0"}}"""))
            .CopyModel(RepositoryPaths.Models, "mlp", "capped")
            .WriteFile("capped/config.json", Config("capped", 2, """{"intra_op_thread_count": {"string_value": "100"}}"""))
            .CopyModel(RepositoryPaths.Models, "mlp", "ours")
            .WriteFile("ours/config.json", Config("ours", 1, """{"intra_op_thread_count": {"string_value": "3"}}""", """{"intra_op_threads": 5}"""))
            .CopyModel(RepositoryPaths.Models, "mlp", "pbtxt")
            .DeleteFile("pbtxt/config.json")
            .WriteFile("pbtxt/config.pbtxt", """
                platform: "onnxruntime_onnx"
                max_batch_size: 64
                instance_group [ { count: 1, kind: KIND_CPU } ]
                parameters { key: "intra_op_thread_count" value: { string_value: "2" } }
                parameters { key: "enable_mem_arena" value: { string_value: "0" } }
                """);
        await using var app = new ConfiguredApplication(repository.Path, services => services.AddSingleton(new CpuBudget(Cpus)));
        using var client = await app.CreateReadyClientAsync();

        var metrics = await client.GetStringAsync(new Uri("/metrics", UriKind.Relative));

        foreach (var (model, threads) in new[] { ("triton", 3), ("capped", Cpus / 2), ("ours", 5), ("pbtxt", 2) })
        {
            var view = await ViewAsync(client, model);
            view.GetProperty("versions")[0].GetProperty("instances").GetProperty("intra_op_threads").GetInt32().Should().Be(threads, model);
            metrics.Should().Contain($"maas_model_instance_threads{{model=\"{model}\",version=\"1\"}} {threads}\n");
            using var infer = await client.SendAsync(V2Requests.Binary(V2Requests.InferUri(model), ReferenceCase.Bundled("mlp", 1)));
            infer.StatusCode.Should().Be(HttpStatusCode.OK, "{0} serves with its parameters", model);
        }

        (await IgnoredAsync(client, "triton")).Should().Equal("parameters.cudnn_conv_algo_search");
        (await IgnoredAsync(client, "capped")).Should().BeEmpty();
        (await IgnoredAsync(client, "ours")).Should().Equal("parameters.intra_op_thread_count");
        (await IgnoredAsync(client, "pbtxt")).Should().BeEmpty();
    }

    [Fact]
    public async Task Load_TritonParameterTheBackendWouldRefuse_ModelUnavailableWithTheReason()
    {
        using var repository = new TempRepository()
            .CopyModel(RepositoryPaths.Models, "mlp", "json")
            .WriteFile("json/config.json", Config("json", 1, """{"intra_op_thread_count": {"string_value": "lots"}}"""))
            .CopyModel(RepositoryPaths.Models, "mlp", "pbtxt")
            .DeleteFile("pbtxt/config.json")
            .WriteFile("pbtxt/config.pbtxt", """parameters { key: "execution_mode" value: { string_value: "parallel" } }""");
        await using var app = new ConfiguredApplication(repository.Path, _ => { });
        using var client = await app.CreateReadyClientAsync();

        using var response = await client.PostAsync(new Uri("/v2/repository/index", UriKind.Relative), null);
        var index = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.EnumerateArray().ToList();

        Reason(index, "json").Should().Be("config.json: parameters.intra_op_thread_count must be an integer from 0 to 1024, not \"lots\"");
        Reason(index, "pbtxt").Should().Be("config.pbtxt: parameters.execution_mode must be \"0\" (sequential) or \"1\" (parallel), not \"parallel\"");
    }

    private static string Config(string name, int instances, string parameters, string? optimization = null)
    {
        var config = new JsonObject
        {
            ["name"] = name,
            ["platform"] = "onnxruntime_onnx",
            ["max_batch_size"] = 64,
            ["instance_group"] = new JsonArray(new JsonObject { ["count"] = instances, ["kind"] = "KIND_CPU" }),
            ["parameters"] = JsonNode.Parse(parameters),
        };
        if (optimization is not null)
        {
            config["optimization"] = JsonNode.Parse(optimization);
        }

        return config.ToJsonString();
    }

    private static async Task<JsonElement> ViewAsync(HttpClient client, string model) =>
        JsonDocument.Parse(await client.GetStringAsync(new Uri($"/v2/repository/models/{model}", UriKind.Relative))).RootElement.Clone();

    private static async Task<List<string?>> IgnoredAsync(HttpClient client, string model) =>
        [.. (await ViewAsync(client, model)).GetProperty("ignored_config_keys").EnumerateArray().Select(key => key.GetString())];

    private static string? Reason(List<JsonElement> index, string model)
    {
        var entries = index.Where(entry => entry.GetProperty("name").GetString() == model).ToList();
        entries.Should().NotBeEmpty("the index lists {0}", model);
        entries.Should().OnlyContain(entry => entry.GetProperty("state").GetString() == "UNAVAILABLE");
        return entries[0].GetProperty("reason").GetString();
    }
}
