using MaaS.Core.Repository;

namespace MaaS.Core.Tests.Infrastructure;

/// <summary>
/// A store that stops once inside <see cref="ReadRecord"/> for one model version (which every load of that version
/// calls first) until the test opens the gate: it forces a load to stand still at a known point, with no sleeps.
/// </summary>
internal sealed class GatedStore(IModelStore inner, string model, long version) : IModelStore, IDisposable
{
    private readonly ManualResetEventSlim _entered = new();
    private readonly ManualResetEventSlim _open = new();
    private int _passes;

    /// <summary>Set once a load of the gated version has reached the gate.</summary>
    public WaitHandle Entered => _entered.WaitHandle;

    /// <summary>Lets the waiting load (and every later one) through.</summary>
    public void Open() => _open.Set();

    public string Root => inner.Root;

    public IReadOnlyList<ModelDirectory> Scan() => inner.Scan();

    public ModelDirectory? Find(string name) => inner.Find(name);

    public Task<StagedFile> StageAsync(Stream content, long maxBytes, CancellationToken cancellationToken) => inner.StageAsync(content, maxBytes, cancellationToken);

    public StagedFile StageWritten(Action<string> write, long maxBytes) => inner.StageWritten(write, maxBytes);

    public void CommitVersion(StagedFile staged, string model, long version, string fileName) => inner.CommitVersion(staged, model, version, fileName);

    public void ReplaceVersions(string model, IReadOnlyDictionary<long, StagedFile> staged, string fileName) => inner.ReplaceVersions(model, staged, fileName);

    public void WriteConfig(string model, string fileName, ReadOnlySpan<byte> content) => inner.WriteConfig(model, fileName, content);

    public void DeleteConfig(string model, string fileName) => inner.DeleteConfig(model, fileName);

    public byte[]? ReadConfig(string model) => inner.ReadConfig(model);

    public void DeleteVersion(string model, long version) => inner.DeleteVersion(model, version);

    public void DeleteModel(string model) => inner.DeleteModel(model);

    public VersionRecord? ReadRecord(string model1, long version1)
    {
        if (model1 == model && version1 == version && Interlocked.Increment(ref _passes) == 1)
        {
            _entered.Set();
            _open.Wait(TimeSpan.FromMinutes(1));
        }

        return inner.ReadRecord(model1, version1);
    }

    public void Dispose()
    {
        _entered.Dispose();
        _open.Dispose();
    }
}
