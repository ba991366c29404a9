using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using MaaS.Server.Hosting;
using MaaS.Server.Tests.Infrastructure;

namespace MaaS.Server.Tests.Explain;

/// <summary>KServe V1's <c>:explain</c>: instances in, predictions and per-instance explanations out, the V2 parameters accepted.</summary>
[Collection(ZooGroup.Name)]
public sealed class ExplainV1Tests(ZooApplication app)
{
    [Fact]
    public async Task Explain_LinearInstances_AnswersKServeShapeWithExactShapleyValues()
    {
        var reference = ReferenceCase.Zoo("linear");
        var expected = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(RepositoryPaths.Zoo, "linear", "reference.json")))
            .RootElement.GetProperty("explain").GetProperty("zeros").GetProperty("data").EnumerateArray().Select(value => value.GetDouble()).ToArray();
        var instances = reference.Inputs[0].Data.EnumerateArray().Select(value => value.GetDouble()).Chunk(8).ToArray();
        using var client = await app.CreateReadyClientAsync();

        using var response = await client.PostAsJsonAsync(
            new Uri("/v1/models/linear:explain", UriKind.Relative), new { instances, parameters = new { method = "shapley" } });

        var text = await response.Content.ReadAsStringAsync();
        response.StatusCode.Should().Be(HttpStatusCode.OK, text);
        var json = JsonDocument.Parse(text).RootElement;
        json.GetProperty("predictions").EnumerateArray().Select(value => value.GetDouble())
            .Should().Equal(reference.Outputs[0].Data.EnumerateArray().Select(value => value.GetDouble()), (a, b) => Math.Abs(a - b) <= 1e-5);
        var explanations = json.GetProperty("explanations").EnumerateArray().ToArray();
        explanations.Should().HaveCount(2);
        explanations.SelectMany(row => row.GetProperty("x").EnumerateArray().Select(value => value.GetDouble()))
            .Should().Equal(expected, (a, b) => Math.Abs(a - b) <= 1e-5);
        json.GetProperty("parameters").GetProperty("method").GetString().Should().Be("shapley");
    }

    [Fact]
    public async Task Explain_ParametersNotAnObject_Returns400()
    {
        using var client = await app.CreateReadyClientAsync();

        using var response = await client.PostAsJsonAsync(
            new Uri("/v1/models/linear:explain", UriKind.Relative), new { instances = new[] { new double[8] }, parameters = "shapley" });

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await response.Content.ReadFromJsonAsync<ErrorResponse>())!.Error.Should().Contain("\"parameters\" must be a JSON object");
    }
}
