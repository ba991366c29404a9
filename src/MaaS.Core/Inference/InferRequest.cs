namespace MaaS.Core.Inference;

/// <summary>A decoded, validated inference request: inputs in pooled buffers and the outputs to return.</summary>
public sealed class InferRequest : IDisposable
{
    /// <summary>The client's request id, echoed in the response; null when absent or empty.</summary>
    public string? Id { get; set; }

    public List<InferInput> Inputs { get; } = [];

    /// <summary>The request parameter <c>priority</c>: 1 is the highest level; 0 (absent) the model's default.</summary>
    public long Priority { get; set; }

    /// <summary>The request parameter <c>timeout</c> in microseconds; 0 (absent) = the model's queue policy decides.</summary>
    public long TimeoutMicroseconds { get; set; }

    /// <summary>
    /// The request's <c>"parameters"</c> object as sent (UTF-8 JSON), kept only when the reader was asked to keep it
    /// (explanations); null otherwise or when the request has none.
    /// </summary>
    public byte[]? ParametersJson { get; set; }

    /// <summary>
    /// Set by a pipeline whose inputs are token sequences <c>[rows, length]</c> padded with zeros (ids, attention
    /// mask, segment ids): the dynamic batcher may join it with requests of other lengths, padding every input with
    /// zeros along the second axis to the batch's longest. Each request then gets its rows of an output as long as the
    /// batch's (<c>[rows, longest, ...]</c>) and reads its own tokens back. Never set from a client's request.
    /// </summary>
    internal bool PadsSequences { get; set; }

    /// <summary>Outputs in response order; every model output when the client named none.</summary>
    public List<RequestedOutput> Outputs { get; } = [];

    /// <summary>Rows of the batch dimension it brings to a model of <paramref name="maxBatchSize"/>: its first dim when the model batches, else 1.</summary>
    public long BatchRows(int maxBatchSize) =>
        maxBatchSize > 0 && Inputs.Count > 0 && Inputs[0].Shape.Length > 0 ? Inputs[0].Shape[0] : 1;

    /// <summary>The input named <paramref name="name"/>, looked for first at <paramref name="likelyIndex"/>; null when absent.</summary>
    public InferInput? FindInput(string name, int likelyIndex)
    {
        if (likelyIndex < Inputs.Count && Inputs[likelyIndex].Name == name)
        {
            return Inputs[likelyIndex];
        }

        foreach (var input in Inputs)
        {
            if (input.Name == name)
            {
                return input;
            }
        }

        return null;
    }

    public void Dispose()
    {
        foreach (var input in Inputs)
        {
            input.Dispose();
        }

        Inputs.Clear();
    }
}
