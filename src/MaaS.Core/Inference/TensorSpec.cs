using MaaS.Core.Tensors;

namespace MaaS.Core.Inference;

/// <summary>One input or output of a model version as served: its name, element type and dims without the batch dim (-1 = any size).</summary>
public sealed record TensorSpec(string Name, TensorDataType DataType, long[] Dims)
{
    /// <summary>Class labels for the classification extension (line i names class i), or null.</summary>
    public IReadOnlyList<string>? Labels { get; init; }

    /// <summary>Config's <c>label_filename</c>, echoed in the effective config.</summary>
    public string? LabelFileName { get; init; }

    /// <summary>An optional input may be left out of a request.</summary>
    public bool Optional { get; init; }
}
