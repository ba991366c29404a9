using System.Globalization;
using Grpc.Core;
using Grpc.Net.Client;
using Inference;
using MaaS.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Serilog.Core;
using Serilog.Events;

namespace MaaS.Server.Tests.Grpc;

/// <summary>A gRPC call always answers HTTP 200: the request log line and the request metrics record its grpc-status instead.</summary>
public sealed class GrpcOutcomeTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task FailedCall_LogLineAndMetricsCarryItsOutcome_NotHttp200()
    {
        const string path = "/inference.GRPCInferenceService/ModelInfer";
        using var sink = new CapturingLogSink(e =>
            e.MessageTemplate.Text.StartsWith("HTTP ", StringComparison.Ordinal)
            && e.Properties.TryGetValue("RequestPath", out var p) && p.ToString() == $"\"{path}\"");
        using var repository = new TempRepository().CopyModel(RepositoryPaths.Models, "mlp");
        using var app = new ConfiguredApplication(
            repository.Path, services => services.AddSingleton<ILogEventSink>(sink), new Dictionary<string, string?> { ["MaaS:Grpc:Port"] = "8001" });
        using var http = await app.CreateReadyClientAsync();
        using var channel = GrpcChannel.ForAddress(app.Server.BaseAddress, new GrpcChannelOptions { HttpHandler = app.Server.CreateHandler(), DisposeHttpClient = true });
        var client = new GRPCInferenceService.GRPCInferenceServiceClient(channel);

        var call = () => client.ModelInferAsync(new ModelInferRequest { ModelName = "nope" }).ResponseAsync;
        (await call.Should().ThrowAsync<RpcException>()).Which.StatusCode.Should().Be(StatusCode.NotFound);
        var line = await sink.Matched.WaitAsync(Patience);
        var metrics = await http.GetStringAsync(new Uri("/metrics", UriKind.Relative));

        line.RenderMessage(CultureInfo.InvariantCulture).Should().Contain("responded 200 (gRPC NotFound) in ");
        line.Level.Should().Be(LogEventLevel.Information, "a client's mistake, as a 404 over HTTP");
        metrics.Should().Contain($"http_server_requests_total{{method=\"POST\",route=\"{path}\",status=\"404\"}} 1")
            .And.NotContain($"route=\"{path}\",status=\"200\"");
    }
}
