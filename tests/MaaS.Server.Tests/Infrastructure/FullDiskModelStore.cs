using MaaS.Core.Repository;

namespace MaaS.Server.Tests.Infrastructure;

/// <summary>Which write of <see cref="FullDiskModelStore"/> runs out of space.</summary>
public enum FullDiskAt
{
    Nothing,
    Stage,
    CommitVersion,
    WriteConfig,
}

/// <summary>
/// The disk store, except that the chosen write fails with ENOSPC, as a full disk makes it fail: staging breaks after
/// some bytes are written, committing a version or writing config.json fails outright.
/// </summary>
internal sealed class FullDiskModelStore(IModelStore inner) : IModelStore
{
    public const int StagedBytesBeforeFull = 1000;

    public FullDiskAt FullAt { get; set; }

    public string Root => inner.Root;

    public IReadOnlyList<ModelDirectory> Scan() => inner.Scan();

    public ModelDirectory? Find(string name) => inner.Find(name);

    public Task<StagedFile> StageAsync(Stream content, long maxBytes, CancellationToken cancellationToken) =>
        FullAt == FullDiskAt.Stage
            ? inner.StageAsync(new FillingStream(content), maxBytes, cancellationToken)
            : inner.StageAsync(content, maxBytes, cancellationToken);

    public StagedFile StageWritten(Action<string> write, long maxBytes) =>
        FullAt == FullDiskAt.Stage
            ? inner.StageWritten(path => throw DiskFull(), maxBytes)
            : inner.StageWritten(write, maxBytes);

    public void CommitVersion(StagedFile staged, string model, long version, string fileName)
    {
        ThrowIfFull(FullDiskAt.CommitVersion);
        inner.CommitVersion(staged, model, version, fileName);
    }

    public void ReplaceVersions(string model, IReadOnlyDictionary<long, StagedFile> staged, string fileName)
    {
        ThrowIfFull(FullDiskAt.CommitVersion);
        inner.ReplaceVersions(model, staged, fileName);
    }

    public void WriteConfig(string model, string fileName, ReadOnlySpan<byte> content)
    {
        ThrowIfFull(FullDiskAt.WriteConfig);
        inner.WriteConfig(model, fileName, content);
    }

    public void DeleteConfig(string model, string fileName) => inner.DeleteConfig(model, fileName);

    public byte[]? ReadConfig(string model) => inner.ReadConfig(model);

    public void DeleteVersion(string model, long version) => inner.DeleteVersion(model, version);

    public void DeleteModel(string model) => inner.DeleteModel(model);

    public VersionRecord? ReadRecord(string model, long version) => inner.ReadRecord(model, version);

    private static IOException DiskFull() => new("No space left on device", 28);

    private void ThrowIfFull(FullDiskAt at)
    {
        if (FullAt == at)
        {
            throw DiskFull();
        }
    }

    /// <summary>Passes the first bytes through to the staging file, then fails the way the write that fills the disk does.</summary>
    private sealed class FillingStream(Stream content) : Stream
    {
        private long _passed;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => _passed; set => throw new NotSupportedException(); }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_passed >= StagedBytesBeforeFull)
            {
                throw DiskFull();
            }

            var read = await content.ReadAsync(buffer[..(int)Math.Min(buffer.Length, StagedBytesBeforeFull - _passed)], cancellationToken);
            _passed += read;
            return read;
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("read asynchronously");

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
