namespace MaaS.Core.Inference;

/// <summary>
/// The stages of one run, as Triton's statistics name them: queue (waiting for a free instance), compute_input
/// (tensors handed to ONNX Runtime), compute_infer (the model itself), compute_output (outputs prepared).
/// </summary>
public readonly record struct RunTimings(TimeSpan Queue, TimeSpan ComputeInput, TimeSpan ComputeInfer, TimeSpan ComputeOutput);
