using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Grpc.Core;
using Inference;
using MaaS.Server.Hosting;
using MaaS.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace MaaS.Server.Tests.Grpc;

/// <summary>
/// ModelStreamInfer runs the requests of a stream at once (up to MaaS:Grpc:StreamMaxInFlight) and answers them in the
/// order sent. The proof does not time anything: "batched" (mlp with dynamic batching) holds a request in its queue for
/// a minute unless a second one completes its preferred batch of 6 rows, so a stream that ran its requests one at a
/// time would leave the first waiting past the call's 30-second deadline.
/// </summary>
public sealed partial class GrpcStreamConcurrencyTests
{
    private static readonly ReferenceCase Mlp = ReferenceCase.Bundled("mlp", 1);

    [Fact]
    public async Task ModelStreamInfer_LaterRequestsRunWhileEarlierOnesWait_AnswersInTheOrderSent()
    {
        await using var server = await StreamServer.StartAsync();
        using var call = server.Client.ModelStreamInfer(deadline: DeadlineIn(TimeSpan.FromSeconds(30)));

        // "first" waits in the batch queue; "second" (another model) runs and is answered after it; "third" completes
        // the batch, which runs "first" and "third" together.
        await call.RequestStream.WriteAsync(Request("batched", "first"));
        await call.RequestStream.WriteAsync(Request("mlp", "second"));
        await call.RequestStream.WriteAsync(Request("batched", "third"));
        await call.RequestStream.CompleteAsync();
        var answers = await call.ResponseStream.ReadAllAsync().ToListAsync();

        answers.Select(a => a.ErrorMessage).Should().AllBe("");
        answers.Select(a => a.InferResponse.Id).Should().Equal("first", "second", "third");
        answers.Select(a => a.InferResponse.ModelName).Should().Equal("batched", "mlp", "batched");
        answers.Should().AllSatisfy(a =>
            TensorValues.FromBinary(a.InferResponse.RawOutputContents[0].Span, "FP32").ShouldMatch(Mlp.Outputs[0], 1e-4));
        var stats = await server.StatsAsync("batched");
        stats.GetProperty("inference_count").GetInt64().Should().Be(6);
        stats.GetProperty("execution_count").GetInt64().Should().Be(1, "the two requests were in the queue together");
    }

    [Fact]
    public async Task ModelStreamInfer_WindowFull_ReadsNoFurtherRequestUntilAnAnswerIsWritten()
    {
        // A window of one: "first" waits in the batch queue and "third" stays unread, so the batch never forms.
        await using var server = await StreamServer.StartAsync(streamMaxInFlight: 1);
        using var cancellation = new CancellationTokenSource();
        using var call = server.Client.ModelStreamInfer(cancellationToken: cancellation.Token);

        await call.RequestStream.WriteAsync(Request("batched", "first"));
        await call.RequestStream.WriteAsync(Request("batched", "third"));
        await server.WaitForPendingAsync("batched", 1);

        for (var i = 0; i < 20; i++)
        {
            (await server.PendingAsync("batched")).Should().Be(1, "the second request is not read while the first is outstanding");
            await Task.Delay(25);
        }

        await cancellation.CancelAsync();
        await server.WaitForPendingAsync("batched", 0);
    }

    [Fact]
    public async Task ModelStreamInfer_ClientCancels_CallEndsCancelledAndTheRequestsInFlightLeaveTheQueue()
    {
        await using var server = await StreamServer.StartAsync();
        using var cancellation = new CancellationTokenSource();
        using var call = server.Client.ModelStreamInfer(cancellationToken: cancellation.Token);
        await call.RequestStream.WriteAsync(Request("batched", "first"));
        await call.RequestStream.WriteAsync(Request("mlp", "second"));
        await server.WaitForPendingAsync("batched", 1);

        await cancellation.CancelAsync();

        var read = () => call.ResponseStream.MoveNext(CancellationToken.None);
        (await read.Should().ThrowAsync<RpcException>()).Which.StatusCode.Should().Be(StatusCode.Cancelled);
        await server.WaitForPendingAsync("batched", 0);
        await StreamServer.WaitUntilAsync(() => server.Limits.InFlight == 0, "the cancelled requests give their slots back");
        var after = await server.Client.ModelInferAsync(Request("mlp", "after"));
        after.Id.Should().Be("after", "the server still serves");
    }

    [Fact]
    public async Task ModelStreamInfer_DeadlinePasses_CallEndsDeadlineExceededAndTheQueueIsEmptied()
    {
        await using var server = await StreamServer.StartAsync();
        using var call = server.Client.ModelStreamInfer(deadline: DeadlineIn(TimeSpan.FromMilliseconds(500)));

        await call.RequestStream.WriteAsync(Request("batched", "first"));

        var read = () => call.ResponseStream.MoveNext(CancellationToken.None);
        var error = (await read.Should().ThrowAsync<RpcException>()).Which;
        using var http = server.CreateHttpClient();
        await GrpcDeadlineAssertions.EndedAtDeadlineAsync(error, http, "ModelStreamInfer");
        await server.WaitForPendingAsync("batched", 0);
    }

    private static DateTime DeadlineIn(TimeSpan time) => TimeProvider.System.GetUtcNow().UtcDateTime.Add(time);

    private static ModelInferRequest Request(string model, string id)
    {
        var request = GrpcRequests.Raw(Mlp, model);
        request.Id = id;
        return request;
    }

    [GeneratedRegex("""^nv_inference_pending_request_count\{model="(\w+)",version="1"\} (\d+)""", RegexOptions.Multiline)]
    private static partial Regex PendingPattern();

    /// <summary>A gRPC server of its own with "mlp" and "batched" (mlp, preferred batch 6 rows, one minute's queue delay).</summary>
    private sealed class StreamServer(TempRepository repository, ConfiguredGrpcApplication app, GRPCInferenceService.GRPCInferenceServiceClient client)
        : IAsyncDisposable
    {
        public GRPCInferenceService.GRPCInferenceServiceClient Client => client;

        public InferenceLimits Limits => app.Services.GetRequiredService<InferenceLimits>();

        public HttpClient CreateHttpClient() => app.CreateClient();

        public static async Task<StreamServer> StartAsync(int? streamMaxInFlight = null)
        {
            var repository = new TempRepository().CopyModel(RepositoryPaths.Models, "mlp").CopyModel(RepositoryPaths.Models, "mlp", "batched");
            var config = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(repository.Path, "batched", "config.json")))!.AsObject();
            config["name"] = "batched";
            config["dynamic_batching"] = JsonNode.Parse("""{"preferred_batch_size": [6], "max_queue_delay_microseconds": 60000000}""");
            repository.WriteFile(Path.Combine("batched", "config.json"), config.ToJsonString());
            var settings = new Dictionary<string, string?>();
            if (streamMaxInFlight is { } window)
            {
                settings["MaaS:Grpc:StreamMaxInFlight"] = window.ToString(CultureInfo.InvariantCulture);
            }

            var app = new ConfiguredGrpcApplication(repository.Path, settings);
            return new StreamServer(repository, app, await app.CreateReadyGrpcClientAsync());
        }

        public async Task<JsonElement> StatsAsync(string model)
        {
            using var http = app.CreateClient();
            var body = await http.GetStringAsync(new Uri($"/v2/models/{model}/versions/1/stats", UriKind.Relative));
            return JsonDocument.Parse(body).RootElement.GetProperty("model_stats")[0].Clone();
        }

        public async Task<int> PendingAsync(string model)
        {
            using var http = app.CreateClient();
            var text = await http.GetStringAsync(new Uri("/metrics", UriKind.Relative));
            return PendingPattern().Matches(text).Where(match => match.Groups[1].Value == model)
                .Select(match => int.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture)).Single();
        }

        public async Task WaitForPendingAsync(string model, int count) =>
            await WaitUntilAsync(async () => await PendingAsync(model) == count, $"the queue of {model} holds {count} requests");

        public static Task WaitUntilAsync(Func<bool> condition, string what) => WaitUntilAsync(() => Task.FromResult(condition()), what);

        public async ValueTask DisposeAsync()
        {
            await app.DisposeAsync();
            repository.Dispose();
        }

        private static async Task WaitUntilAsync(Func<Task<bool>> condition, string what)
        {
            for (var i = 0; i < 600 && !await condition(); i++)
            {
                await Task.Delay(50);
            }

            (await condition()).Should().BeTrue(what);
        }
    }
}
