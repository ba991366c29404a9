using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using MaaS.Core.Inference;
using MaaS.Core.Repository;
using MaaS.Core.Sessions;
using MaaS.Core.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace MaaS.Core.Tests;

/// <summary>
/// The bundled transformer behind the dynamic batcher, on a fake clock so that batches form only at the preferred
/// size: requests run together, and each gets exactly its own rows of PyTorch's reference outputs back.
/// </summary>
public sealed class DynamicBatchingTests : IDisposable
{
    private const float Tolerance = 1e-4f;

    private readonly TempDirectory _temp = new();
    private readonly FakeTimeProvider _time = new();
    private readonly JsonElement _reference = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(RepositoryPaths.References, "transformer", "1.json"))).RootElement;

    public void Dispose() => _temp.Dispose();

    [Fact]
    public async Task RequestsBatchedTogether_EachGetItsOwnReferenceRows()
    {
        using var model = LoadTransformer("""{"preferred_batch_size": [4], "max_queue_delay_microseconds": 1000000}""");
        using var row0 = Request(model, 0, 1);
        using var row1 = Request(model, 1, 1);
        using var both = Request(model, 0, 2);

        // 1 + 1 + 2 rows: the preferred size is reached by the third request, so the three run as one batch of 4.
        var results = await Task.WhenAll(model.RunAsync(row0, default), model.RunAsync(row1, default), model.RunAsync(both, default));
        try
        {
            results.Should().OnlyContain(result => result.ExecutedBatchSize == 4);
            results.Count(result => result.CountsExecution).Should().Be(1, "one execution served the three requests");
            ShouldMatchReference(results[0], "embedding", 0, 1);
            ShouldMatchReference(results[1], "embedding", 1, 1);
            ShouldMatchReference(results[2], "embedding", 0, 2);
            ShouldMatchReference(results[2], "logits", 0, 2);
            results[0].Outputs.Single(output => output.Name == "embedding").Shape.Should().Equal(1, 32);
            results[2].Outputs.Single(output => output.Name == "logits").Shape.Should().Equal(2, 2);
        }
        finally
        {
            DisposeAll(results);
        }
    }

    [Fact]
    public async Task TokenSequencesOfDifferentLengths_PaddedIntoOneBatch_EachAnswersAsAlone()
    {
        using var batched = LoadTransformer("""{"preferred_batch_size": [2], "max_queue_delay_microseconds": 1000000}""");
        using var full = Request(batched, 0, 1);
        using var shorter = Request(batched, 1, 1, tokens: 5);
        full.PadsSequences = shorter.PadsSequences = true;
        shorter.Inputs[0].Shape.Should().Equal(1, 5);
        full.Inputs[0].Shape[1].Should().BeGreaterThan(5, "the reference rows are longer than the shorter request");
        using var alone = LoadTransformer("""{"max_queue_delay_microseconds": 0}""");
        using var shorterAlone = Request(alone, 1, 1, tokens: 5);
        using var expected = await alone.RunAsync(shorterAlone, default);

        var results = await Task.WhenAll(batched.RunAsync(full, default), batched.RunAsync(shorter, default));
        try
        {
            results.Should().OnlyContain(result => result.ExecutedBatchSize == 2, "the two lengths ran as one batch, padded to the longer");
            ShouldMatchReference(results[0], "embedding", 0, 1);
            ShouldMatchReference(results[0], "logits", 0, 1);
            foreach (var name in new[] { "embedding", "logits" })
            {
                var actual = MemoryMarshal.Cast<byte, float>(results[1].Outputs.Single(o => o.Name == name).FixedData).ToArray();
                var own = MemoryMarshal.Cast<byte, float>(expected.Outputs.Single(o => o.Name == name).FixedData).ToArray();
                actual.Should().HaveCount(own.Length);
                for (var i = 0; i < own.Length; i++)
                {
                    actual[i].Should().BeApproximately(own[i], Tolerance, $"element {i} of '{name}': the padding is masked out");
                }
            }
        }
        finally
        {
            DisposeAll(results);
        }
    }

    [Fact]
    public async Task EachRequestKeepsItsOwnOutputsAndClassification_InASharedBatch()
    {
        using var model = LoadTransformer("""{"preferred_batch_size": [2], "max_queue_delay_microseconds": 1000000}""");
        using var classify = Request(model, 0, 1, """[{"name": "logits", "parameters": {"classification": 1}}]""");
        using var embedding = Request(model, 1, 1, """[{"name": "embedding"}]""");

        var results = await Task.WhenAll(model.RunAsync(classify, default), model.RunAsync(embedding, default));
        try
        {
            results.Should().OnlyContain(result => result.ExecutedBatchSize == 2);
            var classes = results[0].Outputs.Should().ContainSingle().Which;
            classes.Name.Should().Be("logits");
            classes.DataType.Should().Be(Tensors.TensorDataType.Bytes);
            classes.Shape.Should().Equal(1, 1);
            var offset = 0;
            var expectedLogits = Floats(Output("logits"))[..2];
            var top = expectedLogits[0] >= expectedLogits[1] ? "0:negative" : "1:positive";
            Encoding.UTF8.GetString(classes.GetBytesElement(0, ref offset)).Should().EndWith($":{top}");
            results[1].Outputs.Should().ContainSingle().Which.Name.Should().Be("embedding");
            ShouldMatchReference(results[1], "embedding", 1, 1);
        }
        finally
        {
            DisposeAll(results);
        }
    }

    [Fact]
    public async Task ShapesThatCannotJoin_RunInSeparateBatches_NotRejected()
    {
        using var model = LoadTransformer("""{"max_queue_delay_microseconds": 0}""");
        using var six = Request(model, 0, 1);
        using var four = InferRequestReader.Read(
            """{"inputs": [{"name": "input_ids", "shape": [1, 4], "datatype": "INT64", "data": [1, 2, 3, 4]}, {"name": "attention_mask", "shape": [1, 4], "datatype": "INT64", "data": [1, 1, 1, 1]}]}"""u8,
            ReadOnlyMemory<byte>.Empty, model.Signature);

        var results = await Task.WhenAll(model.RunAsync(six, default), model.RunAsync(four, default));
        try
        {
            results.Should().OnlyContain(result => result.ExecutedBatchSize == 1);
            ShouldMatchReference(results[0], "embedding", 0, 1);
            results[1].Outputs.Single(output => output.Name == "embedding").Shape.Should().Equal(1, 32);
        }
        finally
        {
            DisposeAll(results);
        }
    }

    [Fact]
    public async Task ValuesTheModelRefuses_FailOnlyTheirOwnRequest()
    {
        using var model = LoadTransformer("""{"preferred_batch_size": [2], "max_queue_delay_microseconds": 1000000}""");
        using var good = Request(model, 0, 1);
        using var bad = InferRequestReader.Read(
            """{"inputs": [{"name": "input_ids", "shape": [1, 6], "datatype": "INT64", "data": [1, 2, 3, 4, 5, 100000000]}, {"name": "attention_mask", "shape": [1, 6], "datatype": "INT64", "data": [1, 1, 1, 1, 1, 1]}]}"""u8,
            ReadOnlyMemory<byte>.Empty, model.Signature);

        var goodRun = model.RunAsync(good, default);
        var badRun = model.RunAsync(bad, default);

        using var result = await goodRun;
        ShouldMatchReference(result, "embedding", 0, 1);
        var failure = await badRun.Invoking(run => run).Should().ThrowAsync<ServingException>();
        failure.Which.Kind.Should().Be(FailureKind.InvalidInput);
    }

    [Fact]
    public async Task CancelledWhileQueued_EndsAtOnce_AndLeavesTheQueue()
    {
        using var model = LoadTransformer("""{"max_queue_delay_microseconds": 1000000}""");
        using var request = Request(model, 0, 1);
        using var disconnect = new CancellationTokenSource();

        var run = model.RunAsync(request, disconnect.Token);
        model.QueuedRequests.Should().Be(1, "the partial batch waits for the delay on the fake clock");
        await disconnect.CancelAsync();

        await run.Invoking(r => r).Should().ThrowAsync<OperationCanceledException>();
        model.QueuedRequests.Should().Be(0);
    }

    [Fact]
    public async Task QueueDelay_DispatchesAPartialBatchOnceItHasPassed()
    {
        using var model = LoadTransformer("""{"max_queue_delay_microseconds": 50000}""");
        using var request = Request(model, 0, 1);

        var run = model.RunAsync(request, default);
        while (!run.IsCompleted)
        {
            _time.Advance(TimeSpan.FromMilliseconds(10));
            await Task.Delay(5);
        }

        using var result = await run;
        ShouldMatchReference(result, "embedding", 0, 1);
        result.Timings.Queue.Should().BeGreaterThanOrEqualTo(TimeSpan.FromMilliseconds(50));
    }

    [Fact]
    public void Config_PreferredSizeAboveMaxBatchSize_IsRefusedWhenReadWithTheKey()
    {
        // Refused when the repository reads the config, before any version loads.
        var model = ReadTransformer("""{"preferred_batch_size": [65]}""");

        model.Config.Should().BeNull();
        model.ConfigError.Should().Contain("dynamic_batching.preferred_batch_size[0]").And.Contain("1 to 64");
    }

    private OnnxModel LoadTransformer(string dynamicBatching)
    {
        var loader = TestLoaders.Create(time: _time);
        return loader.Load(ReadTransformer(dynamicBatching), 1);
    }

    private ModelDirectory ReadTransformer(string dynamicBatching)
    {
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(RepositoryPaths.Models, "transformer", "config.json")))!.AsObject();
        config["name"] = "m";
        config["dynamic_batching"] = JsonNode.Parse(dynamicBatching);
        var target = _temp.CreateDirectory(Path.Combine("m", "1"));
        File.Copy(Path.Combine(RepositoryPaths.Models, "transformer", "1", "model.onnx"), Path.Combine(target, "model.onnx"), overwrite: true);
        File.Copy(Path.Combine(RepositoryPaths.Models, "transformer", "labels.txt"), Path.Combine(_temp.Path, "m", "labels.txt"), overwrite: true);
        _temp.WriteFile(Path.Combine("m", "config.json"), config.ToJsonString());
        return ModelRepositoryScanner.ReadModel("m", Path.Combine(_temp.Path, "m"));
    }

    /// <summary>Rows <paramref name="first"/>..first+count-1 of the reference inputs, as a V2 JSON request.</summary>
    private InferRequest Request(OnnxModel model, int first, int count, string outputs = "[]", int? tokens = null)
    {
        var inputs = new JsonArray();
        foreach (var input in _reference.GetProperty("inputs").EnumerateArray())
        {
            var width = (int)input.GetProperty("shape")[1].GetInt64();
            var kept = tokens ?? width;
            var data = input.GetProperty("data").EnumerateArray().Select(value => value.GetInt64()).Skip(first * width).Take(count * width)
                .Where((_, index) => index % width < kept);
            inputs.Add(new JsonObject
            {
                ["name"] = input.GetProperty("name").GetString(),
                ["shape"] = new JsonArray(count, kept),
                ["datatype"] = "INT64",
                ["data"] = new JsonArray([.. data.Select(value => (JsonNode)value)]),
            });
        }

        var body = new JsonObject { ["inputs"] = inputs, ["outputs"] = JsonNode.Parse(outputs) };
        return InferRequestReader.Read(Encoding.UTF8.GetBytes(body.ToJsonString()), ReadOnlyMemory<byte>.Empty, model.Signature);
    }

    private JsonElement Output(string name) => _reference.GetProperty("outputs").EnumerateArray().Single(output => output.GetProperty("name").GetString() == name);

    private static float[] Floats(JsonElement tensor) => [.. tensor.GetProperty("data").EnumerateArray().Select(value => value.GetSingle())];

    private void ShouldMatchReference(InferResult result, string output, int firstRow, int rows)
    {
        var expected = Output(output);
        var width = (int)expected.GetProperty("shape")[1].GetInt64();
        var actual = MemoryMarshal.Cast<byte, float>(result.Outputs.Single(o => o.Name == output).FixedData).ToArray();
        var reference = Floats(expected)[(firstRow * width)..((firstRow + rows) * width)];
        actual.Should().HaveCount(reference.Length);
        for (var i = 0; i < reference.Length; i++)
        {
            actual[i].Should().BeApproximately(reference[i], Tolerance, $"element {i} of '{output}' rows {firstRow}..{firstRow + rows - 1}");
        }
    }

    private static void DisposeAll(InferResult[] results)
    {
        foreach (var result in results)
        {
            result.Dispose();
        }
    }
}
