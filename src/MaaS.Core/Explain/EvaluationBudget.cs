namespace MaaS.Core.Explain;

/// <summary>
/// <c>MaaS:Explain:MaxEvaluations</c> for one request of <see cref="Rows"/> rows: checked as soon as the cost per row is
/// known, before the features are built or anything runs, so a refused request costs nothing.
/// </summary>
internal sealed record EvaluationBudget(int Rows, int Max)
{
    public void Require(long perRow)
    {
        var needed = Rows * perRow;
        if (needed > Max)
        {
            throw ServingException.Invalid(
                $"this explanation needs {needed} evaluations ({Rows} row(s) x {perRow}), over the server's budget of {Max} (MaaS:Explain:MaxEvaluations); "
                + "send fewer rows, fewer samples, or a larger window");
        }
    }
}
