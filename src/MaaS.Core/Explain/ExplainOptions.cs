using System.ComponentModel.DataAnnotations;

namespace MaaS.Core.Explain;

/// <summary>The <c>MaaS:Explain</c> section: what one explanation may cost.</summary>
public sealed class ExplainOptions
{
    public const string SectionName = "MaaS:Explain";

    /// <summary>
    /// Forward passes (one per perturbed row, counted over every row of the request) one explanation may run; a request
    /// that needs more is refused with 400 saying how many it needs. Default 4096 (exact Shapley values of 12 features on
    /// one row); 1 to 1,000,000.
    /// </summary>
    [Range(1, 1_000_000)]
    public int MaxEvaluations { get; set; } = 4096;
}
