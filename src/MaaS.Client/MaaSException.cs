using System.Net;

namespace MaaS.Client;

/// <summary>
/// Every failure of a call: an error answer from the server (<see cref="StatusCode"/> set, <see cref="Exception.Message"/>
/// the server's <c>error</c>), or a server that could not be reached (<see cref="StatusCode"/> null, the cause inner).
/// </summary>
public sealed class MaaSException : Exception
{
    public MaaSException(HttpStatusCode? statusCode, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        StatusCode = statusCode;
    }

    /// <summary>The HTTP status of the answer (gRPC statuses are mapped to their HTTP twins); null when none came.</summary>
    public HttpStatusCode? StatusCode { get; }
}
