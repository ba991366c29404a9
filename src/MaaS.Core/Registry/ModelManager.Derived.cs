using MaaS.Core.Repository;

namespace MaaS.Core.Registry;

public sealed partial class ModelManager
{
    /// <summary>
    /// A staging file written by the server itself (a model derived from a version): <paramref name="write"/> creates
    /// it at the path it is given; it is hashed like an upload and added with <see cref="AddVersionAsync"/>. 413 past
    /// <paramref name="maxBytes"/>, 507 when the disk is full; nothing stays behind when it fails.
    /// </summary>
    public StagedFile StageDerived(Action<string> write, long maxBytes)
    {
        try
        {
            return _store.StageWritten(write, maxBytes);
        }
        catch (IOException ex) when (StorageErrors.IsDiskFull(ex))
        {
            throw StorageFailure(ex);
        }
    }
}
