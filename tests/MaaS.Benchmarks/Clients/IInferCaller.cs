namespace MaaS.Benchmarks.Clients;

/// <summary>Sends one inference request, the same every time, and checks the answer.</summary>
internal interface IInferCaller : IDisposable
{
    /// <summary>How long a call may take before it counts as an error.</summary>
    public static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Null when the server answered well; otherwise what was wrong (an error status, a broken answer, no answer).</summary>
    Task<string?> CallAsync(CancellationToken cancellationToken);
}
