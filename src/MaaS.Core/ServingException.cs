namespace MaaS.Core;

/// <summary>
/// A failure that is the client's to fix or that the client must be told about (unknown model, bad tensor,
/// model not ready). Anything else that escapes a request is a server bug.
/// </summary>
public sealed class ServingException : Exception
{
    public ServingException(FailureKind kind, string message)
        : base(message) => Kind = kind;

    public ServingException(FailureKind kind, string message, Exception innerException)
        : base(message, innerException) => Kind = kind;

    public FailureKind Kind { get; }

    public static ServingException Invalid(string message) => new(FailureKind.InvalidInput, message);

    public static ServingException ModelNotFound(string modelName) =>
        new(FailureKind.ModelNotFound, $"Request for unknown model: '{modelName}' is not found");

    public static ServingException VersionNotFound(string modelName, long version) =>
        new(FailureKind.VersionNotFound, $"Request for unknown model: '{modelName}' version {version} is not found");
}
