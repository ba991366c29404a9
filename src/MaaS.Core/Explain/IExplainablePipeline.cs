using MaaS.Core.Inference;

namespace MaaS.Core.Explain;

/// <summary>
/// A pipeline model that can be explained through its inner model: it turns a request of its own inputs (text, an image)
/// into the inner model's tensors and says how to explain them (the method and which input is which, from its config,
/// never guessed from names), how each evaluation is read (its post-processing), and how the attributions map back to
/// its inputs (per token, per pixel of the model's input image).
/// </summary>
public interface IExplainablePipeline
{
    /// <summary>
    /// What to run for <paramref name="request"/> (decoded for the pipeline's own signature) on an inner model of
    /// <paramref name="inner"/>; a request or parameter the pipeline cannot explain is a <see cref="ServingException"/> (400).
    /// </summary>
    PipelineExplanation PrepareExplanation(InferRequest request, ExplainParameters parameters, ModelSignature inner);
}

/// <summary>
/// One pipeline request made ready to explain: the inner model's tensors (one row per item of the request: text, image),
/// the parameters to explain them with, the readout that applies the pipeline's post-processing to every evaluation, the
/// target's name and default, and the mapping of the inner model's attributions back to the pipeline's inputs.
/// Owns <see cref="Request"/>.
/// </summary>
public sealed class PipelineExplanation(
    InferRequest request, ExplainParameters parameters, ExplainReadout readout, string targetName, ExplainTargetDefault defaultTarget,
    Func<Explanation, Explanation> mapBack) : IDisposable
{
    public InferRequest Request => request;

    public ExplainParameters Parameters => parameters;

    public ExplainReadout Readout => readout;

    /// <summary>The pipeline output the target is read from, as the answer names it.</summary>
    public string TargetName => targetName;

    public ExplainTargetDefault DefaultTarget => defaultTarget;

    public Explanation MapBack(Explanation explanation) => mapBack(explanation);

    public void Dispose() => request.Dispose();
}
