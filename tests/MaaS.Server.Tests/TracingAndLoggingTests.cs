using System.Diagnostics;
using System.Net;
using MaaS.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Trace;

namespace MaaS.Server.Tests;

public sealed class TracingAndLoggingTests
{
    private const string TraceId = "4bf92f3577b34da6a3ce929d0e0e4736";

    [Fact]
    public async Task Infer_WithTraceparent_EmitsDecodeQueueInferEncodeSpansInTheCallersTrace()
    {
        var spans = new List<Activity>();
        using var repository = new TempRepository().CopyModel(RepositoryPaths.Models, "mlp");
        using var app = new ConfiguredApplication(repository.Path, services => services.AddOpenTelemetry().WithTracing(tracing => tracing
            .AddSource("MaaS")
            .AddAspNetCoreInstrumentation()
            .AddInMemoryExporter(spans)));
        using var client = await app.CreateReadyClientAsync();
        var reference = ReferenceCase.Bundled("mlp", 1);
        using var request = new HttpRequestMessage(HttpMethod.Post, V2Requests.InferUri("mlp")) { Content = V2Requests.Json(V2Requests.JsonBody(reference)) };
        request.Headers.Add("traceparent", $"00-{TraceId}-00f067aa0ba902b7-01");

        using var response = await client.SendAsync(request);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        // Listeners are process-wide: other tests' servers may add spans of their own traces to the list.
        List<Activity> Ours()
        {
            while (true)
            {
                try
                {
                    return spans.ToArray().Where(span => span is not null && span.Source.Name == "MaaS" && span.TraceId.ToHexString() == TraceId).ToList();
                }
                catch (ArgumentException)
                {
                    // The exporter appended while the list was being copied: copy again.
                }
            }
        }

        await WaitForAsync(() => Ours().Exists(span => span.OperationName == "maas.encode"));
        var ours = Ours();
        ours.Select(span => span.OperationName).Should().Contain(["maas.decode", "maas.queue", "maas.infer", "maas.encode"], "the spans continue the caller's trace");
        ours.Should().OnlyContain(span => (string?)span.GetTagItem("maas.model") == "mlp");
    }

    [Fact]
    public async Task Infer_WithRequestId_EchoesIt()
    {
        using var repository = new TempRepository().CopyModel(RepositoryPaths.Models, "mlp");
        using var app = new RepositoryApplication(repository.Path);
        using var client = await app.CreateReadyClientAsync();
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/v2/models/mlp", UriKind.Relative));
        request.Headers.Add("X-Request-Id", "client-chosen-42");

        using var response = await client.SendAsync(request);

        response.Headers.GetValues("X-Request-Id").Should().Equal("client-chosen-42");
    }

    [Fact]
    public async Task Request_WithoutOrWithUnsafeRequestId_GetsTheServersOwn()
    {
        using var repository = new TempRepository().CopyModel(RepositoryPaths.Models, "mlp");
        using var app = new RepositoryApplication(repository.Path);
        using var client = await app.CreateReadyClientAsync();
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/v2/models/mlp", UriKind.Relative));
        request.Headers.TryAddWithoutValidation("X-Request-Id", new string('x', 200));

        using var response = await client.SendAsync(request);

        var echoed = response.Headers.GetValues("X-Request-Id").Single();
        echoed.Should().NotBeNullOrEmpty().And.NotBe(new string('x', 200));
    }

    private static async Task WaitForAsync(Func<bool> condition)
    {
        for (var i = 0; i < 100 && !condition(); i++)
        {
            await Task.Delay(20);
        }
    }
}
