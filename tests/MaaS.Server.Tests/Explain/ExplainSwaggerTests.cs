using System.Net;
using System.Text.Json;
using MaaS.Server.Tests.Infrastructure;

namespace MaaS.Server.Tests.Explain;

/// <summary>The OpenAPI document lists every explain route, and its examples run as they are on the bundled models.</summary>
[Collection(BundledModelsGroup.Name)]
public sealed class ExplainSwaggerTests(MaaSApplication app)
{
    [Theory]
    [InlineData("/v2/models/{modelName}/explain", "/v2/models/mlp/explain")]
    [InlineData("/v2/models/{modelName}/versions/{modelVersion}/explain", "/v2/models/mlp/versions/1/explain")]
    [InlineData("/v1/models/{modelName}:explain", "/v1/models/mlp:explain")]
    public async Task Swagger_ExplainRoute_HasAnExampleThatWorks(string template, string route)
    {
        using var client = await app.CreateReadyClientAsync();
        using var document = JsonDocument.Parse(await client.GetStringAsync(new Uri("/swagger/v1/swagger.json", UriKind.Relative)));

        document.RootElement.GetProperty("paths").TryGetProperty(template, out var path).Should().BeTrue(template);
        var example = path.GetProperty("post").GetProperty("requestBody").GetProperty("content").GetProperty("application/json").GetProperty("example");
        example.GetProperty("parameters").GetProperty("method").GetString().Should().NotBeNullOrEmpty();
        using var response = await client.PostAsync(new Uri(route, UriKind.Relative), V2Requests.Json(example.GetRawText()));

        response.StatusCode.Should().Be(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Swagger_LabelExplainRoute_IsDocumented()
    {
        using var client = await app.CreateReadyClientAsync();
        using var document = JsonDocument.Parse(await client.GetStringAsync(new Uri("/swagger/v1/swagger.json", UriKind.Relative)));

        document.RootElement.GetProperty("paths").TryGetProperty("/v2/models/{modelName}/labels/{label}/explain", out _).Should().BeTrue();
    }
}
