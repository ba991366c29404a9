using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using MaaS.Server.Hosting;
using MaaS.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace MaaS.Server.Tests;

/// <summary>Runs alone: it measures the managed heap, which other tests' servers would disturb.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class OverloadGroup
{
    public const string Name = "overload";
}

/// <summary>
/// Far more clients than MaaS:Limits allows: the excess gets 503 with Retry-After at once, nothing else fails or is
/// lost, and memory returns to where it was. Slow uploads (a gate) hold every slot, so the outcome does not depend on
/// how fast the machine runs the model.
/// </summary>
[Collection(OverloadGroup.Name)]
public sealed class OverloadTests
{
    private const int MaxInFlight = 2;
    private const int MaxQueued = 4;
    private const int Clients = 64;

    // One raw FP32 sequence of 32768 steps x 8 features (1 MiB) for the recurrent model: large, and slow to run.
    private const int BodyBytes = 1 << 20;

    // What may stay: buffers the shared ArrayPool keeps for reuse (a 1 MiB body buffer per thread that returned one)
    // and the test's own bookkeeping; measured at 6-9 MiB. Keeping the bodies of the requests sent (1 MiB each, 135 of
    // them) would pass it.
    private const long HeapGrowthBound = 32L * 1024 * 1024;

    private static readonly Uri InferUri = V2Requests.InferUri("rnn");

    [Fact]
    public async Task Infer_FarMoreClientsThanTheLimits_Answers200Or503WithRetryAfterAndMemoryReturns()
    {
        using var repository = new TempRepository().CopyModel(RepositoryPaths.Models, "rnn");
        using var app = new RepositoryApplication(repository.Path, new Dictionary<string, string?>
        {
            ["MaaS:Limits:MaxInFlight"] = MaxInFlight.ToString(CultureInfo.InvariantCulture),
            ["MaaS:Limits:MaxQueued"] = MaxQueued.ToString(CultureInfo.InvariantCulture),
        });
        using var ready = await app.CreateReadyClientAsync();

        // Without the redirect handler, which buffers a request body whole before sending it: uploads must stream.
        using var client = app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        var limits = app.Services.GetRequiredService<InferenceLimits>();
        var body = Sequence(BodyBytes);
        (await SendAsync(client, V2Requests.Raw(body))).Status.Should().Be(HttpStatusCode.OK, "the model serves a 1 MiB body");
        var heapBefore = GC.GetTotalMemory(forceFullCollection: true);

        // Slow clients take every slot: two mid-upload, four queued behind them.
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var slow = Enumerable.Range(0, MaxInFlight + MaxQueued).Select(_ => SendAsync(client, new GatedContent(body, gate.Task))).ToList();
        await WaitUntilAsync(() => limits.InFlight == MaxInFlight && limits.Queued == MaxQueued, () => $"{limits.InFlight} in flight, {limits.Queued} queued");
        var full = await ScrapeAsync(client);
        Sample(full, "maas_inference_in_flight").Should().Be(MaxInFlight);
        Sample(full, "maas_inference_queued").Should().Be(MaxQueued);

        // Meanwhile 64 clients with large bodies: every one is refused at once, on every route that runs a model; the
        // other routes still answer.
        var refused = (await Task.WhenAll(Enumerable.Range(0, Clients).Select(i => SendAsync(client, V2Requests.Raw(body), i % 2 == 0 ? InferUri : V2Requests.InferUri("rnn", 1))))).ToList();
        refused.Add(await SendAsync(client, V2Requests.Json("""{"instances": [[[0, 0, 0, 0, 0, 0, 0, 0]]]}"""), V1Requests.PredictUri("rnn")));
        refused.Should().OnlyContain(answer => answer.Status == HttpStatusCode.ServiceUnavailable);
        using (var modelReady = await client.GetAsync(new Uri("/v2/models/rnn/ready", UriKind.Relative)))
        {
            modelReady.StatusCode.Should().Be(HttpStatusCode.OK, "only inference is limited");
        }

        // Then the slow clients finish, and 64 more arrive at once: served or refused, as the machine's speed decides.
        gate.SetResult();
        var slowAnswers = await Task.WhenAll(slow);
        var burst = await Task.WhenAll(Enumerable.Range(0, Clients).Select(_ => SendAsync(client, V2Requests.Raw(body))));

        slowAnswers.Should().OnlyContain(answer => answer.Status == HttpStatusCode.OK, "a queued request waits for its slot, however long the upload takes");
        var answers = slowAnswers.Concat(refused).Concat(burst).ToList();
        answers.Should().HaveCount(MaxInFlight + MaxQueued + Clients + 1 + Clients, "every request got an answer");
        answers.Should().OnlyContain(answer => answer.Status == HttpStatusCode.OK || answer.Status == HttpStatusCode.ServiceUnavailable);
        foreach (var rejected in answers.Where(answer => answer.Status == HttpStatusCode.ServiceUnavailable))
        {
            rejected.RetryAfter.Should().Be(TimeSpan.FromSeconds(1));
            rejected.Error.Should().Contain("MaaS:Limits:MaxInFlight").And.Contain("MaaS:Limits:MaxQueued");
        }

        var metrics = await ScrapeAsync(client);
        Sample(metrics, "maas_inference_rejected_total{reason=\"max_queued\"}").Should()
            .Be(answers.Count(answer => answer.Status == HttpStatusCode.ServiceUnavailable), "each refusal is counted once");
        Sample(metrics, "maas_inference_in_flight").Should().Be(0);
        Sample(metrics, "maas_inference_queued").Should().Be(0);

        var heapAfter = GC.GetTotalMemory(forceFullCollection: true);
        (heapAfter - heapBefore).Should().BeLessThan(HeapGrowthBound, "the bodies are not kept (before {0} B, after {1} B)", heapBefore, heapAfter);
    }

    private static byte[] Sequence(int bytes)
    {
        var values = new float[bytes / sizeof(float)];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = (i % 17) / 17f;
        }

        var data = new byte[bytes];
        Buffer.BlockCopy(values, 0, data, 0, bytes);
        return data;
    }

    private static async Task<Answer> SendAsync(HttpClient client, HttpContent content, Uri? uri = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, uri ?? InferUri) { Content = content };
        if ((uri ?? InferUri).OriginalString.StartsWith("/v2/", StringComparison.Ordinal))
        {
            // The body is the raw data of the model's only input.
            request.Headers.Add(V2Requests.HeaderLength, "0");
        }

        using var response = await client.SendAsync(request);
        var error = response.StatusCode == HttpStatusCode.OK ? null : (await response.Content.ReadFromJsonAsync<ErrorResponse>())?.Error;
        return new Answer(response.StatusCode, response.Headers.RetryAfter?.Delta, error);
    }

    private static async Task WaitUntilAsync(Func<bool> condition, Func<string> describe)
    {
        // Uploads reach the server on other threads; a generous bound for a slow, shared machine.
        for (var i = 0; i < 1200 && !condition(); i++)
        {
            await Task.Delay(50);
        }

        condition().Should().BeTrue("the slow clients should take every slot within 60 s; {0}", describe());
    }

    private static async Task<string> ScrapeAsync(HttpClient client)
    {
        using var response = await client.GetAsync(new Uri("/metrics", UriKind.Relative));
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        return await response.Content.ReadAsStringAsync();
    }

    private static double Sample(string metrics, string series)
    {
        var line = metrics.Split('\n').Should().ContainSingle(l => l.StartsWith(series + " ", StringComparison.Ordinal), "/metrics has {0}", series).Subject;
        return double.Parse(line[(series.Length + 1)..], CultureInfo.InvariantCulture);
    }

    private sealed record Answer(HttpStatusCode Status, TimeSpan? RetryAfter, string? Error);
}
