using System.Net;
using MaaS.Client.Tests.Infrastructure;
using MaaS.Server.Tests.Infrastructure;

namespace MaaS.Client.Tests;

/// <summary>The registry calls on a repository of their own: upload, labels, config, load/unload, optimize, delete.</summary>
public sealed class ManagementTests
{
    [Fact]
    public async Task Registry_FullLifecycle_EachCallDoesWhatTheServerSays()
    {
        using var repository = new TempRepository().CopyModel(RepositoryPaths.Models, "mlp");
        await using var server = new ServerWithClient(new RepositoryApplication(repository.Path));
        await server.InitializeAsync();
        var client = server.Client;
        var onnx = await File.ReadAllBytesAsync(Path.Combine(RepositoryPaths.Models, "mlp", "1", "model.onnx"));

        // upload, with progress up to the whole file
        var reported = new List<long>();
        await using (var stream = new MemoryStream(onnx))
        {
            var upload = await client.UploadVersionAsync("mlp", stream, progress: new SynchronousProgress(reported));
            upload.Version.Should().Be(2);
            upload.State.Should().Be("READY");
            upload.SizeBytes.Should().Be(onnx.Length);
        }

        reported.Should().NotBeEmpty().And.BeInAscendingOrder();
        reported[^1].Should().Be(onnx.Length);

        // labels, and inference by label
        await client.SetLabelAsync("mlp", "stable", 1);
        var view = await client.GetModelViewAsync("mlp");
        view.Name.Should().Be("mlp");
        view.Labels.Should().Equal(new Dictionary<string, long> { ["stable"] = 1 });
        view.Versions.Select(v => (v.Version, v.State)).Should().BeEquivalentTo([("1", "READY"), ("2", "READY")]);
        view.Versions.Single(v => v.Version == "1").Labels.Should().Equal("stable");
        view.Versions.Single(v => v.Version == "2").SizeBytes.Should().Be(onnx.Length);
        view.Versions.Single(v => v.Version == "2").Sha256.Should().Be(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(onnx)));
        var byLabel = await client.InferAsync("mlp", [InferInput.Create<float>("input", new float[4], 1, 4)], new InferOptions { Version = ModelVersion.OfLabel("stable") });
        byLabel.ModelVersion.Should().Be("1");
        var deleteLabelled = () => client.DeleteVersionAsync("mlp", 1);
        (await deleteLabelled.Should().ThrowAsync<MaaSException>()).Which.StatusCode.Should().Be(HttpStatusCode.Conflict);
        await client.RemoveLabelAsync("mlp", "stable");
        (await client.GetModelViewAsync("mlp")).Labels.Should().BeEmpty();

        // config: a change that applies, and one that is refused
        var config = (await client.GetModelViewAsync("mlp")).Config!.Value.GetRawText();
        await client.ReplaceConfigAsync("mlp", config);
        var badConfig = () => client.ReplaceConfigAsync("mlp", "{\"max_batch_size\": \"many\"}");
        (await badConfig.Should().ThrowAsync<MaaSException>()).Which.StatusCode.Should().Be(HttpStatusCode.BadRequest);

        // unload and load
        await client.UnloadModelAsync("mlp");
        (await client.IsModelReadyAsync("mlp")).Should().BeFalse();
        await client.LoadModelAsync("mlp");
        (await client.IsModelReadyAsync("mlp")).Should().BeTrue();

        // optimize: a derived version with its report
        var report = await client.OptimizeAsync("mlp", 2, new OptimizeRequest("graph", Label: "candidate"));
        report.Accepted.Should().BeTrue();
        report.Model.Should().Be("mlp");
        report.SourceVersion.Should().Be(2);
        report.Method.Should().Be("graph");
        report.SizeBytes!.Source.Should().Be(new FileInfo(Path.Combine(RepositoryPaths.Models, "mlp", "1", "model.onnx")).Length);
        report.Accuracy!.MaxAbsDiff.Should().BeLessThanOrEqualTo(1e-4);
        report.Outputs.Should().ContainKey("logits");
        report.ValidationInputs!.Value.GetProperty("source").GetString().Should().NotBeNullOrEmpty();
        report.Version.Should().Be(3);
        var derived = (await client.GetModelViewAsync("mlp")).Versions.Single(v => v.Version == "3").DerivedFrom!.Value;
        derived.GetProperty("method").GetString().Should().Be("graph");

        // delete a version, then the model
        await client.RemoveLabelAsync("mlp", "candidate");
        await client.DeleteVersionAsync("mlp", 1);
        (await client.GetModelViewAsync("mlp")).Versions.Select(v => v.Version)
            .Should().BeEquivalentTo("2", "3");
        await client.DeleteModelAsync("mlp");
        var gone = () => client.GetModelMetadataAsync("mlp");
        (await gone.Should().ThrowAsync<MaaSException>()).Which.StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Upload_NotAnOnnxModel_Throws400AndNothingIsWritten()
    {
        using var repository = new TempRepository().CopyModel(RepositoryPaths.Models, "mlp");
        await using var server = new ServerWithClient(new RepositoryApplication(repository.Path));
        await server.InitializeAsync();

        await using var stream = new MemoryStream("garbage"u8.ToArray());
        var act = () => server.Client.UploadVersionAsync("mlp", stream);

        var error = (await act.Should().ThrowAsync<MaaSException>()).Which;
        error.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        error.Message.Should().Contain("ONNX");
        Directory.GetDirectories(Path.Combine(repository.Path, "mlp")).Select(Path.GetFileName).Should().Equal("1");
    }

    /// <summary>Reports on the calling thread, so the list is complete when the call returns.</summary>
    private sealed class SynchronousProgress(List<long> values) : IProgress<long>
    {
        public void Report(long value) => values.Add(value);
    }
}
