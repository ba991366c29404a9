using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using MaaS.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using static MaaS.Server.Tests.Infrastructure.ManagementRequests;

namespace MaaS.Server.Tests;

/// <summary>
/// API keys (MaaS:Auth:ApiKeys): inference keys infer and read, admin keys also manage; health and Swagger are open.
/// Without keys, management answers loopback callers only. Read-only requests share one server with two keys.
/// </summary>
public sealed class AuthTests(ApiKeyServerFixture server) : IClassFixture<ApiKeyServerFixture>
{
    private const string Admin = ApiKeyServerFixture.AdminKey;
    private const string Inference = ApiKeyServerFixture.InferenceKey;

    public static TheoryData<string, string> KeyHeaders() => new()
    {
        { "Bearer", Admin },
        { "X-API-Key", Admin },
        { "Bearer", Inference },
        { "X-API-Key", Inference },
    };

    [Theory]
    [InlineData("infer")]
    [InlineData("metadata")]
    [InlineData("index")]
    [InlineData("management")]
    public async Task AnyProtectedRoute_NoKey_Returns401(string route)
    {
        using var response = await SendAsync(route, header: null, key: null);

        response.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        (await ErrorAsync(response)).Should().Contain("a valid API key is required");
    }

    [Theory]
    [InlineData("Bearer", "infer")]
    [InlineData("X-API-Key", "infer")]
    [InlineData("Bearer", "management")]
    [InlineData("X-API-Key", "management")]
    public async Task AnyProtectedRoute_WrongKey_Returns401(string header, string route)
    {
        using var response = await SendAsync(route, header, "not-a-configured-key-0123456789");

        response.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        (await ErrorAsync(response)).Should().Contain("a valid API key is required");
    }

    [Theory]
    [MemberData(nameof(KeyHeaders))]
    public async Task Infer_AnyValidKey_Returns200WithReferenceOutputs(string header, string key)
    {
        using var response = await SendAsync("infer", header, key);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        (await InferReply.ReadAsync(response)).ShouldMatch(ReferenceCase.Bundled("mlp", 1).Outputs[0], 1e-4);
    }

    [Theory]
    [MemberData(nameof(KeyHeaders))]
    public async Task Metadata_AnyValidKey_Returns200(string header, string key)
    {
        using var response = await SendAsync("metadata", header, key);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        (await BodyAsync(response)).GetProperty("name").GetString().Should().Be("mlp");
    }

    [Theory]
    [MemberData(nameof(KeyHeaders))]
    public async Task Index_AnyValidKey_Returns200(string header, string key)
    {
        using var response = await SendAsync("index", header, key);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        (await BodyAsync(response)).EnumerateArray().Select(entry => entry.GetProperty("name").GetString()).Should().Equal("mlp");
    }

    [Theory]
    [InlineData("Bearer")]
    [InlineData("X-API-Key")]
    public async Task Management_InferenceKey_Returns403(string header)
    {
        using var response = await SendAsync("management", header, Inference);

        response.StatusCode.Should().Be(HttpStatusCode.Forbidden);
        (await ErrorAsync(response)).Should().Contain("it needs an admin key");
    }

    [Theory]
    [InlineData("Bearer")]
    [InlineData("X-API-Key")]
    public async Task Management_AdminKey_Returns200(string header)
    {
        using var response = await SendAsync("management", header, Admin);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        (await BodyAsync(response)).GetProperty("name").GetString().Should().Be("mlp");
    }

    [Fact]
    public async Task Upload_InferenceKey_Returns403AndWritesNothing()
    {
        var before = RepositoryTree.Capture(server.Repository.Path);
        using var request = new HttpRequestMessage(HttpMethod.Post, VersionsUri("mlp")) { Content = Raw(MlpFile) };
        request.Headers.Add("X-API-Key", Inference);

        using var response = await server.Client.SendAsync(request);

        response.StatusCode.Should().Be(HttpStatusCode.Forbidden);
        (await ErrorAsync(response)).Should().Contain("it needs an admin key");
        RepositoryTree.ShouldBeUnchanged(before);
    }

    [Theory]
    [InlineData("/v2/health/live")]
    [InlineData("/v2/health/ready")]
    public async Task Health_NoKey_Returns200(string path)
    {
        using var response = await server.Client.GetAsync(Relative(path));

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        (await BodyAsync(response)).EnumerateObject().Single().Value.GetBoolean().Should().BeTrue();
    }

    [Fact]
    public async Task Swagger_NoKey_Returns200WithTheDefinition()
    {
        using var response = await server.Client.GetAsync(Relative("/swagger/v1/swagger.json"));

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        var definition = await BodyAsync(response);
        definition.GetProperty("paths").TryGetProperty("/v2/repository/models/{modelName}/versions", out _).Should().BeTrue();
    }

    [Theory]
    [InlineData("short-key", "admin")]
    [InlineData("a-long-enough-key-0123456789", "superuser")]
    public async Task Startup_InvalidApiKeySettings_FailsNamingTheSetting(string key, string role)
    {
        using var repository = new TempRepository().CopyModel(RepositoryPaths.Models, "mlp");
        await using var app = new RepositoryApplication(repository.Path, new Dictionary<string, string?>
        {
            ["MaaS:Auth:ApiKeys:0:Key"] = key,
            ["MaaS:Auth:ApiKeys:0:Role"] = role,
        });

        var start = () => app.CreateClient();

        start.Should().Throw<Exception>().Which.ToString().Should().Contain("MaaS:Auth:ApiKeys").And.Contain("at least 16 characters");
    }

    [Fact]
    public async Task Authentication_RegisteredOnlyWithKeys()
    {
        // WebApplication puts the authentication middleware before every request once its services exist, so without
        // keys they must not: nobody would be authenticated, and each request would still pay for the middleware.
        using var repository = new TempRepository().CopyModel(RepositoryPaths.Models, "mlp");
        await using var open = new RepositoryApplication(repository.Path);
        using var client = await open.CreateReadyClientAsync();

        open.Services.GetService<IAuthenticationSchemeProvider>().Should().BeNull();
        server.App.Services.GetService<IAuthenticationSchemeProvider>().Should().NotBeNull();
        using var noKey = await SendAsync("infer", header: null, key: null);
        noKey.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Management_NoKeysAndRemoteCaller_Returns403ButInferenceServes()
    {
        using var repository = new TempRepository().CopyModel(RepositoryPaths.Models, "mlp");
        await using var app = new ConfiguredApplication(repository.Path, services =>
            services.AddSingleton<IStartupFilter>(new RemoteAddressStartupFilter(IPAddress.Parse("203.0.113.7"))));
        using var client = await app.CreateReadyClientAsync();
        var before = RepositoryTree.Capture(repository.Path);

        using var view = await client.GetAsync(Relative("/v2/repository/models/mlp"));
        using var upload = await UploadAsync(client, "mlp", MlpFile);

        view.StatusCode.Should().Be(HttpStatusCode.Forbidden);
        (await ErrorAsync(view)).Should().Contain("loopback callers only").And.Contain("MaaS:Auth:ApiKeys");
        upload.StatusCode.Should().Be(HttpStatusCode.Forbidden);
        (await ErrorAsync(upload)).Should().Contain("loopback callers only");
        RepositoryTree.ShouldBeUnchanged(before);
        await ShouldServeMlpAsync(client, "/v2/models/mlp/infer", "1");
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("::1")]
    [InlineData("::ffff:127.0.0.1")]
    public async Task Management_NoKeysAndLoopbackCaller_Returns200(string address)
    {
        using var repository = new TempRepository().CopyModel(RepositoryPaths.Models, "mlp");
        await using var app = new ConfiguredApplication(repository.Path, services =>
            services.AddSingleton<IStartupFilter>(new RemoteAddressStartupFilter(IPAddress.Parse(address))));
        using var client = await app.CreateReadyClientAsync();

        using var view = await client.GetAsync(Relative("/v2/repository/models/mlp"));

        view.StatusCode.Should().Be(HttpStatusCode.OK);
        (await BodyAsync(view)).GetProperty("name").GetString().Should().Be("mlp");
    }

    [Theory]
    [InlineData("Forwarded", "for=203.0.113.9")]
    [InlineData("X-Forwarded-For", "203.0.113.9")]
    [InlineData("X-Real-IP", "203.0.113.9")]
    [InlineData("X-Forwarded-For", "127.0.0.1")]
    public async Task Upload_NoKeysLoopbackButRelayed_Returns403AndWritesNothing(string header, string value)
    {
        using var repository = new TempRepository().CopyModel(RepositoryPaths.Models, "mlp");
        await using var app = LoopbackApplication(repository.Path);
        using var client = await app.CreateReadyClientAsync();
        var before = RepositoryTree.Capture(repository.Path);

        using var relayed = await UploadFromAsync(client, (header, value));

        relayed.StatusCode.Should().Be(HttpStatusCode.Forbidden);
        (await ErrorAsync(relayed)).Should().Contain("loopback callers only").And.Contain("relayed by a proxy");
        RepositoryTree.ShouldBeUnchanged(before);
        using var direct = await UploadFromAsync(client);
        direct.StatusCode.Should().Be(HttpStatusCode.Created, "the same caller without the header is a loopback caller");
    }

    [Theory]
    [InlineData("127.0.0.1", "127.0.0.1", HttpStatusCode.Created)]
    [InlineData("127.0.0.0/8", "::1", HttpStatusCode.Created)]
    [InlineData("127.0.0.1", "203.0.113.9", HttpStatusCode.Forbidden)]
    [InlineData("127.0.0.1", "127.0.0.1, 203.0.113.9", HttpStatusCode.Forbidden)]
    [InlineData("127.0.0.1", "203.0.113.9, 127.0.0.1", HttpStatusCode.Forbidden)]
    [InlineData("10.9.8.7", "127.0.0.1", HttpStatusCode.Forbidden)]
    public async Task Upload_NoKeysBehindTrustedProxies_JudgesTheForwardedClient(string trusted, string forwardedFor, HttpStatusCode expected)
    {
        using var repository = new TempRepository().CopyModel(RepositoryPaths.Models, "mlp");
        await using var app = LoopbackApplication(repository.Path, new Dictionary<string, string?> { ["MaaS:Auth:TrustedProxies:0"] = trusted });
        using var client = await app.CreateReadyClientAsync();

        using var response = await UploadFromAsync(client, ("X-Forwarded-For", forwardedFor));

        response.StatusCode.Should().Be(expected, "the proxy at 127.0.0.1 {0} trusted and forwarded '{1}'",
            trusted.StartsWith("127.", StringComparison.Ordinal) ? "is" : "is not", forwardedFor);
        if (expected == HttpStatusCode.Forbidden)
        {
            (await ErrorAsync(response)).Should().Contain("loopback callers only");
        }
    }

    [Fact]
    public async Task Upload_NoKeysTrustedProxyButAlsoXRealIp_Returns403()
    {
        using var repository = new TempRepository().CopyModel(RepositoryPaths.Models, "mlp");
        await using var app = LoopbackApplication(repository.Path, new Dictionary<string, string?> { ["MaaS:Auth:TrustedProxies:0"] = "127.0.0.1" });
        using var client = await app.CreateReadyClientAsync();

        using var response = await UploadFromAsync(client, ("X-Forwarded-For", "127.0.0.1"), ("X-Real-IP", "203.0.113.9"));

        response.StatusCode.Should().Be(HttpStatusCode.Forbidden, "X-Real-IP is not consumed, so the request still says it was relayed");
    }

    [Theory]
    [InlineData("nonsense")]
    [InlineData("10.0.0.0/33")]
    [InlineData("nginx.internal")]
    public async Task Startup_InvalidTrustedProxy_FailsNamingTheSetting(string entry)
    {
        using var repository = new TempRepository().CopyModel(RepositoryPaths.Models, "mlp");
        await using var app = new RepositoryApplication(repository.Path, new Dictionary<string, string?> { ["MaaS:Auth:TrustedProxies:0"] = entry });

        var start = () => app.CreateClient();

        start.Should().Throw<Exception>().Which.ToString().Should().Contain("MaaS:Auth:TrustedProxies").And.Contain("CIDR network");
    }

    /// <summary>No keys, every request from 127.0.0.1: the connection a proxy or sidecar on the same host makes.</summary>
    private static ConfiguredApplication LoopbackApplication(string repository, IDictionary<string, string?>? settings = null) =>
        new(repository, services => services.AddSingleton<IStartupFilter>(new RemoteAddressStartupFilter(IPAddress.Loopback)), settings);

    private static async Task<HttpResponseMessage> UploadFromAsync(HttpClient client, params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, VersionsUri("mlp")) { Content = Raw(MlpFile) };
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value).Should().BeTrue();
        }

        return await client.SendAsync(request);
    }

    /// <summary>One request of a kind, with the key in <paramref name="header"/> ("Bearer" for Authorization, or "X-API-Key").</summary>
    private async Task<HttpResponseMessage> SendAsync(string route, string? header, string? key)
    {
        using var request = route switch
        {
            "infer" => new HttpRequestMessage(HttpMethod.Post, Relative("/v2/models/mlp/infer"))
            {
                Content = V2Requests.Json(V2Requests.JsonBody(ReferenceCase.Bundled("mlp", 1))),
            },
            "metadata" => new HttpRequestMessage(HttpMethod.Get, Relative("/v2/models/mlp")),
            "index" => new HttpRequestMessage(HttpMethod.Post, Relative("/v2/repository/index")),
            "management" => new HttpRequestMessage(HttpMethod.Get, Relative("/v2/repository/models/mlp")),
            _ => throw new ArgumentOutOfRangeException(nameof(route), route, null),
        };
        if (header == "Bearer")
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }
        else if (header is not null)
        {
            request.Headers.Add(header, key);
        }

        return await server.Client.SendAsync(request);
    }

    private static async Task<JsonElement> BodyAsync(HttpResponseMessage response)
    {
        response.Content.Headers.ContentType?.MediaType.Should().Be("application/json");
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return document.RootElement.Clone();
    }
}
