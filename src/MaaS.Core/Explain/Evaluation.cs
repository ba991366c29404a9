namespace MaaS.Core.Explain;

/// <summary>One forward pass to make: request row <see cref="Row"/> with the features <see cref="Perturb"/> removes set to the baseline.</summary>
internal readonly record struct Evaluation(int Row, Action<RowWriter>? Perturb);
