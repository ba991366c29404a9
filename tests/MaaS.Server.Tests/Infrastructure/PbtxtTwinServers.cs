namespace MaaS.Server.Tests.Infrastructure;

/// <summary>
/// Two servers: one on tests/fixtures/pbtxt (config.pbtxt models), one on the same models configured by their
/// config.json twins (tests/fixtures/pbtxt-twins), for "serves exactly as its twin" comparisons.
/// </summary>
public sealed class PbtxtTwinServers : IDisposable
{
    public static readonly string[] Models = ["int_types", "multi_io", "no_batch"];

    private readonly TempRepository _twinRepository = new();

    public PbtxtTwinServers()
    {
        foreach (var model in Models)
        {
            _twinRepository.CopyModel(RepositoryPaths.Pbtxt, model)
                .DeleteFile(Path.Combine(model, "config.pbtxt"))
                .DeleteFile(Path.Combine(model, "maas.json"))
                .WriteFile(Path.Combine(model, "config.json"), File.ReadAllBytes(Path.Combine(RepositoryPaths.PbtxtTwins, model + ".json")));
        }

        // A fixed instance count: "auto" times each model at load, so the two servers could choose differently.
        var settings = new Dictionary<string, string?> { ["MaaS:Sessions:InstanceCount"] = "1" };
        Pbtxt = new RepositoryApplication(RepositoryPaths.Pbtxt, settings);
        Twin = new RepositoryApplication(_twinRepository.Path, settings);
    }

    public RepositoryApplication Pbtxt { get; }

    public RepositoryApplication Twin { get; }

    public void Dispose()
    {
        Pbtxt.Dispose();
        Twin.Dispose();
        _twinRepository.Dispose();
    }
}
