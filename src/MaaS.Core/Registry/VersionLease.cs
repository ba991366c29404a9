using MaaS.Core.Sessions;

namespace MaaS.Core.Registry;

/// <summary>A request's hold on a model version: the session stays alive until every lease on it is disposed.</summary>
public sealed class VersionLease : IDisposable
{
    private ModelVersion? _version;

    internal VersionLease(string modelName, ModelVersion version)
    {
        ModelName = modelName;
        _version = version;
        Model = version.Model!;
        VersionNumber = version.Number;
    }

    public string ModelName { get; }

    public long VersionNumber { get; }

    public OnnxModel Model { get; }

    public void Dispose() => Interlocked.Exchange(ref _version, null)?.Release();
}
