namespace MaaS.Core.Inference;

/// <summary>
/// The stages of one run, as Triton's statistics name them: queue (waiting for a free instance), compute_input
/// (tensors handed to ONNX Runtime), compute_infer (the model itself), compute_output (outputs prepared).
/// </summary>
public readonly record struct RunTimings(TimeSpan Queue, TimeSpan ComputeInput, TimeSpan ComputeInfer, TimeSpan ComputeOutput)
{
    /// <summary>The stages of several runs that served one request (a pipeline's chunks), added up.</summary>
    internal static RunTimings Sum(IEnumerable<RunTimings> runs)
    {
        var total = default(RunTimings);
        foreach (var run in runs)
        {
            total = new RunTimings(
                total.Queue + run.Queue, total.ComputeInput + run.ComputeInput, total.ComputeInfer + run.ComputeInfer, total.ComputeOutput + run.ComputeOutput);
        }

        return total;
    }
}
