using MaaS.Core.Inference;

namespace MaaS.Core.Pipelines;

/// <summary><paramref name="Count"/> embeddings of <paramref name="Dimensions"/> floats, row after row, and the tokens they took.</summary>
public sealed record TextEmbeddings(float[] Vectors, int Count, int Dimensions, int Tokens)
{
    public ReadOnlyMemory<float> this[int index] => Vectors.AsMemory(index * Dimensions, Dimensions);

    /// <summary>The inner model's runs for these embeddings, added up (the pipeline's statistics).</summary>
    public RunTimings Timings { get; init; }
}
