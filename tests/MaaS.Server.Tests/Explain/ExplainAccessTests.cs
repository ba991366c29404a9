using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using MaaS.Core.Explain;
using MaaS.Server.Hosting;
using MaaS.Server.Tests.Infrastructure;
using Microsoft.Extensions.Options;

namespace MaaS.Server.Tests.Explain;

/// <summary>Explanations take the inference routes' API keys, and the evaluation budget is a validated setting.</summary>
public sealed class ExplainAccessTests(ApiKeyServerFixture server) : IClassFixture<ApiKeyServerFixture>
{
    private static JsonObject Body => ExplainRequests.Body(ReferenceCase.Bundled("mlp", 1), new JsonObject { ["method"] = "occlusion" });

    [Fact]
    public async Task Explain_NoKey_Returns401()
    {
        using var response = await server.Client.PostAsync(ExplainRequests.ExplainUri("mlp"), V2Requests.Json(Body));

        response.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        (await response.Content.ReadFromJsonAsync<ErrorResponse>())!.Error.Should().Contain("a valid API key is required");
    }

    [Theory]
    [InlineData("/v2/models/mlp/explain")]
    [InlineData("/v1/models/mlp:explain")]
    public async Task Explain_InferenceKey_Returns200(string route)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(route, UriKind.Relative))
        {
            Content = V2Requests.Json(route.StartsWith("/v1", StringComparison.Ordinal)
                ? """{"instances": [[6.7, 3.1, 4.4, 1.4]], "parameters": {"method": "occlusion"}}"""
                : Body.ToJsonString()),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", ApiKeyServerFixture.InferenceKey);

        using var response = await server.Client.SendAsync(request);

        response.StatusCode.Should().Be(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1_000_001)]
    public void Validation_MaxEvaluationsOutOfRange_FailsNamingIt(int value) =>
        new DataAnnotationValidateOptions<ExplainOptions>(null).Validate(null, new ExplainOptions { MaxEvaluations = value })
            .FailureMessage.Should().Contain(nameof(ExplainOptions.MaxEvaluations));

    [Fact]
    public async Task Explain_OverAConfiguredBudget_Returns400SayingHowManyItNeeds()
    {
        using var repository = new TempRepository().CopyModel(RepositoryPaths.Models, "mlp");
        using var app = new RepositoryApplication(repository.Path, new Dictionary<string, string?> { ["MaaS:Explain:MaxEvaluations"] = "40" });
        using var client = await app.CreateReadyClientAsync();

        using var response = await client.PostAsync(
            ExplainRequests.ExplainUri("mlp"), V2Requests.Json(ExplainRequests.Body(ReferenceCase.Bundled("mlp", 1), new JsonObject { ["method"] = "shapley" })));

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await response.Content.ReadFromJsonAsync<ErrorResponse>())!.Error.Should()
            .Contain("this explanation needs 48 evaluations (3 row(s) x 16), over the server's budget of 40 (MaaS:Explain:MaxEvaluations)");
    }
}
