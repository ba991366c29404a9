using Grpc.Core;

namespace MaaS.Server.Tests.Grpc;

/// <summary>A call that ended at its deadline, seen from both sides.</summary>
internal static class GrpcDeadlineAssertions
{
    /// <summary>
    /// The server answered the call on <paramref name="method"/> with DEADLINE_EXCEEDED (408 in its HTTP metrics, the
    /// only such call) and the client saw DEADLINE_EXCEEDED. After answering, the server resets the stream (CANCEL):
    /// over a real connection the trailers arrive first, but the in-process test host may surface the reset before them,
    /// as INTERNAL naming its HttpResetTestException, when the server's timer fires before the client's.
    /// </summary>
    public static async Task EndedAtDeadlineAsync(RpcException error, HttpClient http, string method)
    {
        var line = $"route=\"/inference.GRPCInferenceService/{method}\",status=\"408\"}} 1";
        var metrics = string.Empty;
        for (var i = 0; i < 600 && !metrics.Contains(line, StringComparison.Ordinal); i++)
        {
            await Task.Delay(i == 0 ? 0 : 50);
            metrics = await http.GetStringAsync(new Uri("/metrics", UriKind.Relative));
        }

        metrics.Should().Contain(line, "the server answered DEADLINE_EXCEEDED");
        if (!(error.StatusCode == StatusCode.Internal && error.Status.Detail.Contains("HttpResetTestException", StringComparison.Ordinal)))
        {
            error.StatusCode.Should().Be(StatusCode.DeadlineExceeded, error.Status.Detail);
        }
    }
}
