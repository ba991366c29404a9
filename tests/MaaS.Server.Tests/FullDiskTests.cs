using System.Net;
using System.Text.Json.Nodes;
using MaaS.Core;
using MaaS.Core.Repository;
using MaaS.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using static MaaS.Server.Tests.Infrastructure.ManagementRequests;

namespace MaaS.Server.Tests;

/// <summary>
/// A full disk (ENOSPC) while staging an upload or an optimised model, committing the version or writing config.json: 507 with a clear
/// error, nothing left in the repository, and what served before still serves. The store is the disk store behind a
/// decorator that runs out of space where the test says.
/// </summary>
public sealed class FullDiskTests
{
    private const string DiskFull = "the model repository's disk is full; nothing was written";

    [Theory]
    [InlineData(FullDiskAt.Stage, "mlp")]
    [InlineData(FullDiskAt.Stage, "fresh")]
    [InlineData(FullDiskAt.CommitVersion, "mlp")]
    [InlineData(FullDiskAt.CommitVersion, "fresh")]
    public async Task Upload_RawWhileDiskFull_Returns507AndChangesNothing(FullDiskAt fullAt, string model)
    {
        using var repository = new TempRepository().CopyModel(RepositoryPaths.Models, "mlp");
        var store = default(FullDiskModelStore);
        await using var app = FullDiskApplication(repository, created => store = created);
        using var client = await app.CreateReadyClientAsync();
        var before = RepositoryTree.Capture(repository.Path);
        var index = await IndexTextAsync(client);
        store!.FullAt = fullAt;

        using var response = await UploadAsync(client, model, MlpFile);

        response.StatusCode.Should().Be(HttpStatusCode.InsufficientStorage);
        (await ErrorAsync(response)).Should().Be(DiskFull);
        await ShouldBeUntouchedAsync(client, before, index);
    }

    [Theory]
    [InlineData(FullDiskAt.Stage, "mlp")]
    [InlineData(FullDiskAt.Stage, "fresh")]
    [InlineData(FullDiskAt.CommitVersion, "mlp")]
    [InlineData(FullDiskAt.CommitVersion, "fresh")]
    [InlineData(FullDiskAt.WriteConfig, "mlp")]
    [InlineData(FullDiskAt.WriteConfig, "fresh")]
    public async Task Upload_MultipartWithConfigWhileDiskFull_Returns507AndChangesNothing(FullDiskAt fullAt, string model)
    {
        using var repository = new TempRepository().CopyModel(RepositoryPaths.Models, "mlp");
        var store = default(FullDiskModelStore);
        await using var app = FullDiskApplication(repository, created => store = created);
        using var client = await app.CreateReadyClientAsync();
        var before = RepositoryTree.Capture(repository.Path);
        var index = await IndexTextAsync(client);
        store!.FullAt = fullAt;

        using var response = await client.PostAsync(VersionsUri(model), Multipart(MlpFile, MlpConfig(model, maxBatchSize: 2)));

        response.StatusCode.Should().Be(HttpStatusCode.InsufficientStorage);
        (await ErrorAsync(response)).Should().Be(DiskFull);
        await ShouldBeUntouchedAsync(client, before, index);
    }

    [Fact]
    public async Task Load_WithFilesWhileDiskFull_Returns507AndChangesNothing()
    {
        using var repository = new TempRepository().CopyModel(RepositoryPaths.Models, "mlp");
        var store = default(FullDiskModelStore);
        await using var app = FullDiskApplication(repository, created => store = created);
        using var client = await app.CreateReadyClientAsync();
        var before = RepositoryTree.Capture(repository.Path);
        var index = await IndexTextAsync(client);
        store!.FullAt = FullDiskAt.CommitVersion;
        var body = new JsonObject
        {
            ["parameters"] = new JsonObject { ["config"] = MlpConfig("fresh"), ["file:1/model.onnx"] = Convert.ToBase64String(MlpFile) },
        };

        using var response = await client.PostAsync(Relative("/v2/repository/models/fresh/load"), V2Requests.Json(body));

        response.StatusCode.Should().Be(HttpStatusCode.InsufficientStorage);
        (await ErrorAsync(response)).Should().Be(DiskFull);
        await ShouldBeUntouchedAsync(client, before, index);
    }

    [Fact]
    public async Task SetLabel_WhileDiskFull_Returns507AndChangesNothing()
    {
        using var repository = new TempRepository().CopyModel(RepositoryPaths.Models, "mlp").WriteFile("mlp/2/model.onnx", MlpFile);
        var store = default(FullDiskModelStore);
        await using var app = FullDiskApplication(repository, created => store = created);
        using var client = await app.CreateReadyClientAsync();
        var before = RepositoryTree.Capture(repository.Path);
        var index = await IndexTextAsync(client);
        store!.FullAt = FullDiskAt.WriteConfig;

        using var response = await SetLabelAsync(client, "mlp", "stable", 1);

        response.StatusCode.Should().Be(HttpStatusCode.InsufficientStorage);
        (await ErrorAsync(response)).Should().Be(DiskFull);
        RepositoryTree.ShouldBeUnchanged(before);
        (await IndexTextAsync(client)).Should().Be(index);
        using var byLabel = await InferMlpAsync(client, "/v2/models/mlp/labels/stable/infer");
        byLabel.StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await ErrorAsync(byLabel)).Should().Contain("has no label 'stable'");
        await ShouldServeMlpAsync(client, "/v2/models/mlp/infer", "2");
    }

    [Theory]
    [InlineData(FullDiskAt.Stage)]
    [InlineData(FullDiskAt.CommitVersion)]
    public async Task Optimize_WhileDiskFull_Returns507AndChangesNothing(FullDiskAt fullAt)
    {
        using var repository = new TempRepository().CopyModel(RepositoryPaths.Models, "mlp");
        var store = default(FullDiskModelStore);
        await using var app = FullDiskApplication(repository, created => store = created);
        using var client = await app.CreateReadyClientAsync();
        var before = RepositoryTree.Capture(repository.Path);
        var index = await IndexTextAsync(client);
        store!.FullAt = fullAt;

        using var response = await client.PostAsync(Relative("/v2/repository/models/mlp/versions/1/optimize"), V2Requests.Json("""{"method": "graph"}"""));

        response.StatusCode.Should().Be(HttpStatusCode.InsufficientStorage);
        (await ErrorAsync(response)).Should().Be(DiskFull);
        await ShouldBeUntouchedAsync(client, before, index);
    }

    [Fact]
    public async Task ReplaceConfig_WhileDiskFull_Returns507AndKeepsTheOldConfig()
    {
        using var repository = new TempRepository().CopyModel(RepositoryPaths.Models, "mlp");
        var store = default(FullDiskModelStore);
        await using var app = FullDiskApplication(repository, created => store = created);
        using var client = await app.CreateReadyClientAsync();
        var before = RepositoryTree.Capture(repository.Path);
        store!.FullAt = FullDiskAt.WriteConfig;

        using var response = await client.PutAsync(Relative("/v2/repository/models/mlp/config"), V2Requests.Json(MlpConfig(maxBatchSize: 2)));

        response.StatusCode.Should().Be(HttpStatusCode.InsufficientStorage);
        (await ErrorAsync(response)).Should().Be(DiskFull);
        RepositoryTree.ShouldBeUnchanged(before);
        await ShouldServeMlpAsync(client, "/v2/models/mlp/infer", "1");   // a batch of 3: the old max_batch_size holds
    }

    /// <summary>The server on <paramref name="repository"/> with the disk store behind <see cref="FullDiskModelStore"/>.</summary>
    private static ConfiguredApplication FullDiskApplication(TempRepository repository, Action<FullDiskModelStore> created) =>
        new(repository.Path, services => services.AddSingleton<IModelStore>(provider =>
        {
            var store = new FullDiskModelStore(
                new DiskModelStore(provider.GetRequiredService<IOptions<MaaSOptions>>(), provider.GetRequiredService<TimeProvider>()));
            created(store);
            return store;
        }));

    private static async Task ShouldBeUntouchedAsync(HttpClient client, RepositoryTree before, string index)
    {
        RepositoryTree.ShouldBeUnchanged(before);
        (await IndexTextAsync(client)).Should().Be(index);
        await ShouldServeMlpAsync(client, "/v2/models/mlp/infer", "1");
    }
}
