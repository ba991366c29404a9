namespace MaaS.Core.Pipelines;

/// <summary><paramref name="Count"/> embeddings of <paramref name="Dimensions"/> floats, row after row, and the tokens they took.</summary>
public sealed record TextEmbeddings(float[] Vectors, int Count, int Dimensions, int Tokens)
{
    public ReadOnlyMemory<float> this[int index] => Vectors.AsMemory(index * Dimensions, Dimensions);
}
