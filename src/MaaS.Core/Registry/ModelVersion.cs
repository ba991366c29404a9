using MaaS.Core.Inference;
using MaaS.Core.Sessions;

namespace MaaS.Core.Registry;

/// <summary>
/// One version of a model in one state. Immutable apart from its lease count: a state change replaces the object.
/// A READY version is reference-counted: the registry holds one reference, every request holds one through a
/// <see cref="VersionLease"/>, and the session is disposed when the last reference goes.
/// </summary>
public sealed class ModelVersion
{
    private int _references;
    private long _lastUsed;

    private ModelVersion(long number, ModelVersionState state, string? reason, OnnxModel? model, VersionFileInfo? file)
    {
        Number = number;
        State = state;
        Reason = reason;
        Model = model;
        File = file;
        _references = model is null ? 0 : 1;
    }

    /// <summary>The model file this state was reached from (size, time, hash), or null when there was none.</summary>
    public VersionFileInfo? File { get; }

    public long Number { get; }

    public ModelVersionState State { get; }

    /// <summary>Why the version is not READY (the load error, "unloaded"); null when READY.</summary>
    public string? Reason { get; }

    internal OnnxModel? Model { get; }

    /// <summary>Requests waiting for one of its instances; 0 when not loaded.</summary>
    public int QueuedRequests => Model?.QueuedRequests ?? 0;

    /// <summary>The loaded model's instances and how they were chosen; null when not loaded.</summary>
    public InstanceChoice? Instances => Model?.Choice;

    /// <summary>How long the loaded model took to load and to warm up; null when not loaded.</summary>
    public (TimeSpan Load, TimeSpan Warmup)? Durations => Model is { } model ? (model.LoadDuration, model.WarmupDuration) : null;

    public static ModelVersion Loading(long number) => new(number, ModelVersionState.Loading, null, null, null);

    public static ModelVersion Ready(long number, OnnxModel model, VersionFileInfo? file = null) =>
        new(number, ModelVersionState.Ready, null, model, file);

    public static ModelVersion Unavailable(long number, string reason, VersionFileInfo? file = null) =>
        new(number, ModelVersionState.Unavailable, reason, null, file);

    /// <summary>Unloaded to stay within the loaded-model budget: still routable, loaded again by the next request for it.</summary>
    public static ModelVersion Evicted(long number, VersionFileInfo? file, ModelSignature? signature = null) =>
        new(number, ModelVersionState.Unavailable, EvictedReason, null, file) { IsEvicted = true, _evictedSignature = signature };

    private ModelSignature? _evictedSignature;

    /// <summary>
    /// What the version accepts and returns, without holding it: the loaded model's signature, or the one an evicted
    /// version had (a request body is checked against it before anything is loaded again); null when unknown.
    /// </summary>
    public ModelSignature? Signature => Model?.Signature ?? _evictedSignature;

    public const string EvictedReason = "evicted";

    /// <summary>Evicted: reported UNAVAILABLE (reason "evicted") but routable, loaded on demand.</summary>
    public bool IsEvicted { get; private init; }

    /// <summary>READY or evicted: a request for it will be served.</summary>
    public bool IsRoutable => State == ModelVersionState.Ready || IsEvicted;

    /// <summary>When a request last leased it (TimeProvider timestamp), for least-recently-used eviction.</summary>
    public long LastUsed => Volatile.Read(ref _lastUsed);

    /// <summary>Still holds its session: false once retired and its last request ended (it must never be published again).</summary>
    internal bool IsAlive => Model is null || Volatile.Read(ref _references) > 0;

    /// <summary>No request holds it (only the registry's own reference remains).</summary>
    internal bool IsIdle => Volatile.Read(ref _references) == 1;

    internal void Touch(long timestamp) => Volatile.Write(ref _lastUsed, timestamp);

    /// <summary>Takes a reference for one request; false once the version has been retired and its last request ended.</summary>
    internal bool TryAcquire()
    {
        var current = Volatile.Read(ref _references);
        while (current > 0)
        {
            var seen = Interlocked.CompareExchange(ref _references, current + 1, current);
            if (seen == current)
            {
                return true;
            }

            current = seen;
        }

        return false;
    }

    internal void Release()
    {
        if (Interlocked.Decrement(ref _references) == 0)
        {
            Model?.Dispose();
        }
    }

    /// <summary>Drops the registry's reference: the session is disposed once the requests still running on it end.</summary>
    public void Retire()
    {
        if (Model is not null)
        {
            Release();
        }
    }
}
