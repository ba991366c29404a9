using System.Net;
using System.Net.Http.Json;
using MaaS.Server.Hosting;
using MaaS.Server.Tests.Infrastructure;

namespace MaaS.Server.Tests;

[Collection(BundledModelsGroup.Name)]
public sealed class HealthEndpointTests(MaaSApplication app)
{
    [Fact]
    public async Task Live_Returns200()
    {
        using var client = await app.CreateReadyClientAsync();
        using var response = await client.GetAsync(new Uri("/v2/health/live", UriKind.Relative));
        response.StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Ready_AfterBundledModelsLoad_Returns200()
    {
        using var client = await app.CreateReadyClientAsync();
        using var response = await client.GetAsync(new Uri("/v2/health/ready", UriKind.Relative));
        response.StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Fact]
    public async Task UnknownRoute_Returns404WithErrorBody()
    {
        using var client = await app.CreateReadyClientAsync();
        using var response = await client.GetAsync(new Uri("/v2/nothing/here", UriKind.Relative));
        response.StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await response.Content.ReadFromJsonAsync<ErrorResponse>())!.Error.Should().Be("Not Found");
    }
}
