namespace MaaS.Core.Repository;

/// <summary>
/// The model repository on disk, the source of truth for every replica that shares it. Every write lands whole or not
/// at all: files are staged beside the repository and renamed into place, so a scan never sees half a version.
/// </summary>
internal interface IModelStore
{
    /// <summary>Absolute path of the repository root.</summary>
    string Root { get; }

    IReadOnlyList<ModelDirectory> Scan();

    /// <summary>The model's directory as it is now, or null when there is none.</summary>
    ModelDirectory? Find(string name);

    /// <summary>Streams <paramref name="content"/> into a staging file, hashing it; 413 past <paramref name="maxBytes"/>.</summary>
    Task<StagedFile> StageAsync(Stream content, long maxBytes, CancellationToken cancellationToken);

    /// <summary>
    /// A staging file the server writes itself (a derived model): <paramref name="write"/> gets the path to create, and
    /// the result is hashed like an upload; 413 past <paramref name="maxBytes"/>. Nothing stays behind when it throws.
    /// </summary>
    StagedFile StageWritten(Action<string> write, long maxBytes);

    /// <summary>Moves a staged file into place as <c>&lt;model&gt;/&lt;version&gt;/&lt;fileName&gt;</c>; 409 when the version exists.</summary>
    void CommitVersion(StagedFile staged, string model, long version, string fileName);

    /// <summary>
    /// Makes the staged files the model's only versions (Triton's load from request files): each old version is moved
    /// aside, the new ones are moved in, and the old ones are deleted only once every new one is in place; on failure
    /// the old versions are moved back.
    /// </summary>
    void ReplaceVersions(string model, IReadOnlyDictionary<long, StagedFile> staged, string fileName);

    /// <summary>
    /// Replaces a config file (<see cref="ModelConfigFiles"/>: config.json, config.pbtxt or maas.json) atomically
    /// (temp file + rename), creating the model directory if needed.
    /// </summary>
    void WriteConfig(string model, string fileName, ReadOnlySpan<byte> content);

    /// <summary>Deletes a config file when it exists (to take back a write that created it).</summary>
    void DeleteConfig(string model, string fileName);

    /// <summary>The bytes of the model's config.json, or null when it has none.</summary>
    byte[]? ReadConfig(string model);

    /// <summary>Removes a version directory: renamed away first, so no scan sees it half-deleted.</summary>
    void DeleteVersion(string model, long version);

    void DeleteModel(string model);

    /// <summary>What was recorded when the version was written (hash, size, time), or null for a version copied in by hand.</summary>
    VersionRecord? ReadRecord(string model, long version);
}
