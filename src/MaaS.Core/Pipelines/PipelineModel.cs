using MaaS.Core.Inference;

namespace MaaS.Core.Pipelines;

/// <summary>
/// A loaded pipeline model (docs/pipelines.md): steps in the server around the inner model, which runs the tensors.
/// Immutable once loaded; safe to share between requests. <see cref="TextEmbeddingPipeline"/> and
/// <see cref="ImageClassificationPipeline"/> are the two kinds.
/// </summary>
public abstract class PipelineModel
{
    /// <summary>The pipeline model's name, which answers carry.</summary>
    public abstract string Name { get; }

    /// <summary>The model of the repository that runs the tensors.</summary>
    public abstract string InnerModel { get; }

    /// <summary>What V2 clients see (metadata, and what requests are decoded for) around the inner model's signature.</summary>
    public abstract ModelSignature SignatureFor(ModelSignature inner);
}
