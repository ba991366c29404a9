using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using MaaS.Cli;
using MaaS.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;

namespace MaaS.Client.Tests;

/// <summary>
/// <c>maas bench</c>'s own HTTP/1.1 connections, against Kestrel on a real port: the framings Kestrel answers with
/// (Content-Length, chunked, Connection: close), error answers, the API key, an unreachable server; and the bench
/// end to end against the server itself listening on a port.
/// </summary>
public sealed class HttpLoadConnectionTests : IAsyncLifetime
{
    private readonly ConcurrentDictionary<string, byte> _connections = new();
    private WebApplication _app = null!;
    private Uri _base = null!;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        _app = builder.Build();
        _app.Use((context, next) =>
        {
            _connections.TryAdd(context.Request.Path + "#" + context.Connection.Id, 0);
            return next(context);
        });
        _app.MapPost("/length", async (HttpContext context) =>
        {
            var body = await ReadAsync(context.Request);
            context.Response.ContentType = "application/octet-stream";
            await context.Response.Body.WriteAsync(body);
        });
        _app.MapPost("/chunked", async (HttpContext context) =>
        {
            var body = await ReadAsync(context.Request);
            for (var i = 0; i < 3; i++)
            {
                await context.Response.Body.WriteAsync(body);
                await context.Response.Body.FlushAsync();
            }
        });
        _app.MapPost("/busy", () => Results.Json(new { error = "the queue is full" }, statusCode: 503));
        _app.MapPost("/close", (HttpContext context) =>
        {
            context.Response.Headers.Connection = "close";
            return Results.Text("bye");
        });
        // Answers in full, keep-alive, then drops the connection (as a server closing an idle one does).
        _app.MapPost("/drop-after", (HttpContext context) =>
        {
            context.Response.OnCompleted(() =>
            {
                // After the answer went out without "Connection: close": Kestrel closes the connection gracefully.
                context.Features.Get<IConnectionLifetimeNotificationFeature>()!.RequestClose();
                return Task.CompletedTask;
            });
            return Results.Text("bye");
        });
        _app.MapPost("/key", (HttpContext context) =>
            context.Request.Headers.Authorization == "Bearer sesame" ? Results.Ok() : Results.Json(new { error = "no key" }, statusCode: 401));
        await _app.StartAsync();
        _base = new Uri(_app.Urls.Single());
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Theory]
    [InlineData("/length")]
    [InlineData("/chunked")]
    public async Task Send_FramedAnswers_ReadsEachWholeOnOneConnection(string path)
    {
        await using var connection = await CreateAsync(path, new string('x', 20_000));

        for (var i = 0; i < 5; i++)
        {
            await connection.SendAsync(CancellationToken.None);
        }

        ConnectionsTo(path).Should().Be(1, "every answer was read to its end, so the connection was kept");
    }

    [Fact]
    public async Task Send_ErrorAnswer_ThrowsTheStatusAndTheServersMessage()
    {
        await using var connection = await CreateAsync("/busy", "{}");

        var act = () => connection.SendAsync(CancellationToken.None);

        var error = (await act.Should().ThrowAsync<MaaSException>()).Which;
        error.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        error.Message.Should().Be("the queue is full");
    }

    [Fact]
    public async Task Send_ConnectionClose_ReconnectsForTheNextRequest()
    {
        await using var connection = await CreateAsync("/close", "{}");

        for (var i = 0; i < 3; i++)
        {
            await connection.SendAsync(CancellationToken.None);
        }

        ConnectionsTo("/close").Should().Be(3);
    }

    [Fact]
    public async Task Send_AfterTheServerDroppedTheKeptConnection_SendsAgainOnANewOne()
    {
        await using var connection = await CreateAsync("/drop-after", "{}");

        for (var i = 0; i < 3; i++)
        {
            await connection.SendAsync(CancellationToken.None);
        }

        ConnectionsTo("/drop-after").Should().Be(3, "each dropped connection was replaced, and the request sent again on the new one");
    }

    [Fact]
    public async Task Send_ApiKey_SentAsBearer()
    {
        await using var withKey = await CreateAsync("/key", "{}", "sesame");
        await using var withoutKey = await CreateAsync("/key", "{}");

        await withKey.SendAsync(CancellationToken.None);
        var act = () => withoutKey.SendAsync(CancellationToken.None);

        (await act.Should().ThrowAsync<MaaSException>()).Which.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Send_NothingListening_ThrowsCannotReach()
    {
        var url = new Uri("http://127.0.0.1:9/v2/models/m/infer");
        using var content = new StringContent("{}");
        await using var connection = new HttpLoadConnection(url, await HttpLoadConnection.FormatAsync(url, null, content, CancellationToken.None));

        var act = () => connection.SendAsync(CancellationToken.None);

        var error = (await act.Should().ThrowAsync<MaaSException>()).Which;
        error.StatusCode.Should().BeNull();
        error.Message.Should().StartWith("cannot reach the server at 127.0.0.1:9");
    }

    [Fact]
    public async Task Bench_AgainstTheServerOnAPort_EveryRequestReachesIt()
    {
        await using var server = new MaaSApplication();
        server.UseKestrel(0);
        server.StartServer();
        using var raw = await server.CreateReadyClientAsync();
        var before = await SuccessCountAsync(raw, "mlp");

        var output = new StringWriter();
        var error = new StringWriter();
        var code = await MaaS.Cli.CliApp.RunAsync(
            ["bench", "mlp", "--concurrency", "1,4", "--duration", "300ms", "--warmup", "100ms", "-o", "json", "--url", raw.BaseAddress!.ToString()],
            output, error, Stream.Null, handler: null, CancellationToken.None);

        code.Should().Be(0, error.ToString());
        using var rows = JsonDocument.Parse(output.ToString());
        var measured = rows.RootElement.EnumerateArray().Select(r => (long)r.GetProperty("requests").GetDouble()).ToList();
        measured.Should().HaveCount(2).And.OnlyContain(n => n > 0, "each level ran its load");
        var after = await SuccessCountAsync(raw, "mlp");
        (after - before).Should().BeGreaterThanOrEqualTo(measured.Sum() + 1, "the measured requests, the check request and the warm-ups all reached the server");
    }

    private static async Task<long> SuccessCountAsync(HttpClient raw, string model)
    {
        using var stats = JsonDocument.Parse(await raw.GetStringAsync($"/v2/models/{model}/stats"));
        return stats.RootElement.GetProperty("model_stats").EnumerateArray()
            .Sum(v => v.GetProperty("inference_stats").GetProperty("success").GetProperty("count").GetInt64());
    }

    private int ConnectionsTo(string path) => _connections.Keys.Count(k => k.StartsWith(path + "#", StringComparison.Ordinal));

    private async Task<HttpLoadConnection> CreateAsync(string path, string body, string? apiKey = null)
    {
        var url = new Uri(_base, path);
        using var content = new StringContent(body, Encoding.UTF8, new MediaTypeHeaderValue("application/json"));
        return new HttpLoadConnection(url, await HttpLoadConnection.FormatAsync(url, apiKey, content, CancellationToken.None));
    }

    private static async Task<byte[]> ReadAsync(HttpRequest request)
    {
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer);
        return buffer.ToArray();
    }
}
