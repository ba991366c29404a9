namespace MaaS.Core;

/// <summary>What went wrong, in the terms a client acts on. The host maps each kind to one HTTP status.</summary>
public enum FailureKind
{
    /// <summary>The request is malformed or does not fit the model (400).</summary>
    InvalidInput,

    /// <summary>No model of that name (404).</summary>
    ModelNotFound,

    /// <summary>The model exists, the version does not (404).</summary>
    VersionNotFound,

    /// <summary>The model or version exists but cannot serve now: loading, failed, unloaded (503).</summary>
    NotReady,

    /// <summary>The request body or a tensor is over a configured limit (413).</summary>
    PayloadTooLarge,

    /// <summary>The change clashes with what exists: a version already there, a label to a version that cannot serve (409).</summary>
    Conflict,

    /// <summary>The repository's disk is full (507).</summary>
    InsufficientStorage,

    /// <summary>The request is well formed but cannot be carried out on this model: nothing for an optimisation to change (422).</summary>
    Unprocessable,
}
