using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace MaaS.Client.Tests;

/// <summary>Retries, Retry-After, the API key and option validation, against a scripted handler.</summary>
public sealed class ResilienceTests
{
    [Fact]
    public async Task Read_503WithRetryAfter_IsRetriedAfterTheGivenDelay()
    {
        var handler = new ScriptedHandler(
            _ => Respond(HttpStatusCode.ServiceUnavailable, "{\"error\": \"loading\"}", retryAfterSeconds: 1),
            _ => Respond(HttpStatusCode.OK, "{\"name\": \"maas\", \"version\": \"1\", \"extensions\": []}"));
        await using var services = Create(handler);
        var started = System.Diagnostics.Stopwatch.StartNew();

        var metadata = await services.GetRequiredService<IMaaSClient>().GetServerMetadataAsync();

        metadata.Name.Should().Be("maas");
        handler.Requests.Should().HaveCount(2);
        started.Elapsed.Should().BeGreaterThanOrEqualTo(TimeSpan.FromMilliseconds(900), "Retry-After said 1 s, the configured delay is 1 ms");
    }

    [Fact]
    public async Task Write_LostConnection_IsNotRetried()
    {
        var handler = new ScriptedHandler(_ => throw new HttpRequestException("connection reset"), _ => Respond(HttpStatusCode.OK, "{}"));
        await using var services = Create(handler);

        var act = () => services.GetRequiredService<IMaaSClient>().SetLabelAsync("mlp", "stable", 1);

        var error = (await act.Should().ThrowAsync<MaaSException>()).Which;
        error.StatusCode.Should().BeNull();
        error.Message.Should().Contain("connection reset");
        handler.Requests.Should().HaveCount(1);
    }

    [Fact]
    public async Task Write_Refused503_IsRetried()
    {
        var handler = new ScriptedHandler(_ => Respond(HttpStatusCode.ServiceUnavailable, "{\"error\": \"draining\"}"), _ => Respond(HttpStatusCode.OK, "{}"));
        await using var services = Create(handler);

        await services.GetRequiredService<IMaaSClient>().UnloadModelAsync("mlp");

        handler.Requests.Should().HaveCount(2);
    }

    [Fact]
    public async Task Upload_503_IsNotRetried()
    {
        var handler = new ScriptedHandler(_ => Respond(HttpStatusCode.ServiceUnavailable, "{\"error\": \"draining\"}"));
        await using var services = Create(handler);
        await using var stream = new MemoryStream(new byte[10]);

        var act = () => services.GetRequiredService<IMaaSClient>().UploadVersionAsync("mlp", stream);

        (await act.Should().ThrowAsync<MaaSException>()).Which.Message.Should().Be("draining");
        handler.Requests.Should().HaveCount(1);
    }

    [Fact]
    public async Task Infer_ConnectionError_IsRetried()
    {
        var handler = new ScriptedHandler(
            _ => throw new HttpRequestException("refused"),
            _ => Respond(HttpStatusCode.OK, "{\"model_name\": \"m\", \"model_version\": \"1\", \"outputs\": [{\"name\": \"y\", \"datatype\": \"INT32\", \"shape\": [2], \"data\": [1, 2]}]}"));
        await using var services = Create(handler);

        var result = await services.GetRequiredService<IMaaSClient>().InferAsync("m", [InferInput.Create<int>("x", new[] { 1, 2 }, 2)]);

        result["y"].ToArray<int>().Should().Equal(1, 2);
        handler.Requests.Should().HaveCount(2);
    }

    [Fact]
    public async Task ApiKey_IsSentAsBearer()
    {
        var handler = new ScriptedHandler(_ => Respond(HttpStatusCode.OK, "true"));
        await using var services = Create(handler, o => o.ApiKey = "s3cret");

        await services.GetRequiredService<IMaaSClient>().IsLiveAsync();

        handler.Requests[0].Headers.Authorization!.ToString().Should().Be("Bearer s3cret");
    }

    [Fact]
    public void Options_WithoutBaseAddress_FailValidation()
    {
        var services = new ServiceCollection();
        services.AddMaaSClient(_ => { });
        using var provider = services.BuildServiceProvider();

        var act = () => provider.GetRequiredService<IMaaSClient>();

        act.Should().Throw<OptionsValidationException>().WithMessage("*BaseAddress*");
    }

    private static ServiceProvider Create(ScriptedHandler handler, Action<MaaSClientOptions>? configure = null)
    {
        var services = new ServiceCollection();
        services.AddMaaSClient(o =>
            {
                o.BaseAddress = new Uri("http://maas.test/");
                o.RetryDelay = TimeSpan.FromMilliseconds(1);
                configure?.Invoke(o);
            })
            .ConfigurePrimaryHttpMessageHandler(() => handler);
        return services.BuildServiceProvider();
    }

    private static HttpResponseMessage Respond(HttpStatusCode status, string json, int? retryAfterSeconds = null)
    {
        var response = new HttpResponseMessage(status) { Content = new StringContent(json, System.Text.Encoding.UTF8, "application/json") };
        if (retryAfterSeconds is { } seconds)
        {
            response.Headers.RetryAfter = new System.Net.Http.Headers.RetryConditionHeaderValue(TimeSpan.FromSeconds(seconds));
        }

        return response;
    }

    /// <summary>Answers the n-th request with the n-th step (the last one repeats) and keeps every request.</summary>
    private sealed class ScriptedHandler(params Func<HttpRequestMessage, HttpResponseMessage>[] steps) : HttpMessageHandler
    {
        public List<HttpRequestMessage> Requests { get; } = [];

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Requests.Add(request);
            return Task.FromResult(steps[Math.Min(Requests.Count, steps.Length) - 1](request));
        }
    }
}
