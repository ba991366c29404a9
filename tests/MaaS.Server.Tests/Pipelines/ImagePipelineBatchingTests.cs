using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using MaaS.Server.Tests.Infrastructure;

namespace MaaS.Server.Tests.Pipelines;

/// <summary>
/// More images than the inner model's max_batch_size: they go in chunks, through its dynamic batcher, and come back
/// in request order.
/// </summary>
public sealed class ImagePipelineBatchingTests
{
    [Fact]
    public async Task Infer_TenImagesOverACnnOfBatchSize4WithDynamicBatching_ClassifiesEachInOrder()
    {
        using var repository = new TempRepository().CopyModel(RepositoryPaths.Models, "cnn").CopyModel(RepositoryPaths.Models, "digits");
        var cnn = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(repository.Path, "cnn", "config.json")))!.AsObject();
        cnn["max_batch_size"] = 4;
        cnn["dynamic_batching"] = new JsonObject { ["max_queue_delay_microseconds"] = 1000 };
        repository.WriteFile("cnn/config.json", cnn.ToJsonString());
        await using var app = new RepositoryApplication(repository.Path);
        using var client = await app.CreateReadyClientAsync();
        var digits = new[] { 3, 1, 4, 1, 5, 9, 2, 6, 5, 3 };
        var images = digits.Select(d => File.ReadAllBytes(Path.Combine(RepositoryPaths.Models, "samples", $"digit-{d}.png"))).ToArray();
        var blob = images.SelectMany(image => BitConverter.GetBytes(image.Length).Concat(image)).ToArray();
        var header = new JsonObject { ["inputs"] = new JsonArray(V2Requests.BinaryInput("image", "BYTES", [digits.Length], blob.Length)) };

        using var message = V2Requests.Binary(V2Requests.InferUri("digits"), header, [blob]);
        using var response = await client.SendAsync(message);

        var text = await response.Content.ReadAsStringAsync();
        response.StatusCode.Should().Be(HttpStatusCode.OK, text);
        using var document = JsonDocument.Parse(text);
        var output = document.RootElement.GetProperty("outputs")[0];
        output.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()).Should().Equal(10, 3);
        output.GetProperty("data").EnumerateArray().Where((_, i) => i % 3 == 0)
            .Select(e => ImagePipelineTests.Parse(e.GetString()!).Index).Should().Equal(digits);
    }
}
