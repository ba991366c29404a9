namespace MaaS.Core.Sessions;

/// <summary>
/// Every instance of a model version stayed busy past the wait timeout: the inner exception of the 503
/// <see cref="ServingException"/>, so the host can count it as overload.
/// </summary>
public sealed class SessionWaitTimeoutException : TimeoutException
{
    public SessionWaitTimeoutException()
        : base("waiting for a model instance timed out")
    {
    }

    public SessionWaitTimeoutException(string message)
        : base(message)
    {
    }

    public SessionWaitTimeoutException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
