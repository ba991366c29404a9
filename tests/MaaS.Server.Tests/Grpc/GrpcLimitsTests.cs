using System.Net;
using Grpc.Core;
using Inference;
using MaaS.Server.Hosting;
using MaaS.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace MaaS.Server.Tests.Grpc;

/// <summary>
/// gRPC calls share the server-wide limits with HTTP (MaaS:Limits:MaxInFlight, MaxQueued): past both, UNAVAILABLE with
/// the HTTP message; a call waiting for a slot ends at its deadline or when its client cancels it.
/// </summary>
public sealed class GrpcLimitsTests
{
    [Fact]
    public async Task ModelInfer_ServerAtItsLimits_UnavailableWithTheHttpMessage()
    {
        await using var held = await HoldOnlySlotAsync(maxQueued: 0);
        var request = GrpcRequests.Raw(ReferenceCase.Bundled("mlp", 1), "mlp");

        var call = () => held.Client.ModelInferAsync(request).ResponseAsync;

        var error = (await call.Should().ThrowAsync<RpcException>()).Which;
        error.StatusCode.Should().Be(StatusCode.Unavailable);
        error.Status.Detail.Should().Contain("MaaS:Limits:MaxInFlight").And.Contain("MaaS:Limits:MaxQueued");
    }

    [Fact]
    public async Task ModelStreamInfer_ServerAtItsLimits_ErrorMessageAndTheStreamStaysOpen()
    {
        await using var held = await HoldOnlySlotAsync(maxQueued: 0);
        using var call = held.Client.ModelStreamInfer();

        await call.RequestStream.WriteAsync(GrpcRequests.Raw(ReferenceCase.Bundled("mlp", 1), "mlp"));
        (await call.ResponseStream.MoveNext(CancellationToken.None)).Should().BeTrue();
        call.ResponseStream.Current.ErrorMessage.Should().Contain("MaaS:Limits:MaxInFlight");

        held.Release();
        await WaitUntilAsync(() => held.Limits.InFlight == 0, "the upload gives its slot back");
        await call.RequestStream.WriteAsync(GrpcRequests.Raw(ReferenceCase.Bundled("mlp", 1), "mlp"));
        (await call.ResponseStream.MoveNext(CancellationToken.None)).Should().BeTrue();
        call.ResponseStream.Current.ErrorMessage.Should().BeEmpty("a slot is free again");
        call.ResponseStream.Current.InferResponse.ModelName.Should().Be("mlp");
        await call.RequestStream.CompleteAsync();
    }

    [Fact]
    public async Task ModelInfer_DeadlinePassesWhileQueued_DeadlineExceededAndTheSlotIsGivenBack()
    {
        await using var held = await HoldOnlySlotAsync(maxQueued: 1);
        var request = GrpcRequests.Raw(ReferenceCase.Bundled("mlp", 1), "mlp");

        var call = () => held.Client.ModelInferAsync(request, deadline: TimeProvider.System.GetUtcNow().UtcDateTime.AddMilliseconds(500)).ResponseAsync;

        var error = (await call.Should().ThrowAsync<RpcException>()).Which;
        await GrpcDeadlineAssertions.EndedAtDeadlineAsync(error, held.Http, "ModelInfer");
        await WaitUntilAsync(() => held.Limits.Queued == 0, "the expired call leaves the queue");
    }

    [Fact]
    public async Task ModelInfer_ClientCancelsWhileQueued_CancelledAndTheSlotIsGivenBack()
    {
        await using var held = await HoldOnlySlotAsync(maxQueued: 1);
        using var cancellation = new CancellationTokenSource();
        var call = held.Client.ModelInferAsync(GrpcRequests.Raw(ReferenceCase.Bundled("mlp", 1), "mlp"), cancellationToken: cancellation.Token);
        await WaitUntilAsync(() => held.Limits.Queued == 1, "the call waits for the slot");

        await cancellation.CancelAsync();

        var wait = () => call.ResponseAsync;
        (await wait.Should().ThrowAsync<RpcException>()).Which.StatusCode.Should().Be(StatusCode.Cancelled);
        await WaitUntilAsync(() => held.Limits.Queued == 0, "the cancelled call leaves the queue");
    }

    /// <summary>A server with one inference slot, taken by an HTTP upload that waits for <see cref="HeldSlot.Release"/>.</summary>
    private static async Task<HeldSlot> HoldOnlySlotAsync(int maxQueued)
    {
        var repository = new TempRepository().CopyModel(RepositoryPaths.Models, "mlp");
        var app = new ConfiguredGrpcApplication(repository.Path, new Dictionary<string, string?>
        {
            ["MaaS:Limits:MaxInFlight"] = "1",
            ["MaaS:Limits:MaxQueued"] = maxQueued.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        var grpc = await app.CreateReadyGrpcClientAsync();
        var http = app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        var limits = app.Services.GetRequiredService<InferenceLimits>();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var body = System.Text.Encoding.UTF8.GetBytes(V2Requests.JsonBody(ReferenceCase.Bundled("mlp", 1)).ToJsonString());
        var upload = http.PostAsync(V2Requests.InferUri("mlp"), new GatedContent(body, gate.Task));
        await WaitUntilAsync(() => limits.InFlight == 1, "the upload takes the only slot");
        return new HeldSlot(repository, app, http, grpc, limits, gate, upload);
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        for (var i = 0; i < 600 && !condition(); i++)
        {
            await Task.Delay(50);
        }

        condition().Should().BeTrue(what);
    }

    private sealed class HeldSlot(
        TempRepository repository, ConfiguredGrpcApplication app, HttpClient http, GRPCInferenceService.GRPCInferenceServiceClient client,
        InferenceLimits limits, TaskCompletionSource gate, Task<HttpResponseMessage> upload) : IAsyncDisposable
    {
        public GRPCInferenceService.GRPCInferenceServiceClient Client => client;

        public HttpClient Http => http;

        public InferenceLimits Limits => limits;

        public void Release() => gate.TrySetResult();

        public async ValueTask DisposeAsync()
        {
            Release();
            using (var response = await upload)
            {
                response.StatusCode.Should().Be(HttpStatusCode.OK, "the held upload completes once released");
            }

            http.Dispose();
            await app.DisposeAsync();
            repository.Dispose();
        }
    }
}
