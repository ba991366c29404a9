namespace MaaS.Core.Inference;

/// <summary>A decoded, validated inference request: inputs in pooled buffers and the outputs to return.</summary>
public sealed class InferRequest : IDisposable
{
    /// <summary>The client's request id, echoed in the response; null when absent or empty.</summary>
    public string? Id { get; set; }

    public List<InferInput> Inputs { get; } = [];

    /// <summary>Outputs in response order; every model output when the client named none.</summary>
    public List<RequestedOutput> Outputs { get; } = [];

    public void Dispose()
    {
        foreach (var input in Inputs)
        {
            input.Dispose();
        }

        Inputs.Clear();
    }
}
