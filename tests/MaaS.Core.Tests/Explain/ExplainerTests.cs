using System.Text;
using MaaS.Core.Explain;
using MaaS.Core.Inference;
using MaaS.Core.Repository;
using MaaS.Core.Sessions;
using MaaS.Core.Tests.Infrastructure;
using Microsoft.Extensions.Options;

namespace MaaS.Core.Tests.Explain;

/// <summary>The explainer on a loaded zoo model, without HTTP: cost accounting, cancellation, and the window geometry.</summary>
public sealed class ExplainerTests : IDisposable
{
    private const string Row = "[1.0, 2.0, -0.5, 3.0, 0.25, -1.0, 0.5, 2.5]";

    private readonly OnnxModel _linear = TestLoaders.Create().Load(ModelRepositoryScanner.ReadModel("linear", Path.Combine(RepositoryPaths.Zoo, "linear")), 1);

    public void Dispose() => _linear.Dispose();

    private InferRequest Request(string parameters) => InferRequestReader.Read(
        Encoding.UTF8.GetBytes($$"""{"inputs": [{"name": "x", "datatype": "FP32", "shape": [1, 8], "data": {{Row}}}], "parameters": {{parameters}}}"""),
        ReadOnlyMemory<byte>.Empty, _linear.Signature, forExplanation: true);

    private static Explainer Explainer(int budget = 4096) => new(Options.Create(new ExplainOptions { MaxEvaluations = budget }));

    [Fact]
    public async Task ExplainAsync_Occlusion_CountsOneRunPerWindowPlusPredictionAndBaseline()
    {
        using var request = Request("""{"method": "occlusion", "window": 3}""");

        var explanation = await Explainer().ExplainAsync(_linear, request, ExplainParameters.Parse(request.ParametersJson), CancellationToken.None);

        explanation.Evaluations.Should().Be(3 + 2, "windows of 3 over 8 elements: [0,3), [3,6), [6,8)");
        explanation.Attributions.Should().ContainSingle().Which.Values.Sum().Should().BeApproximately(
            (float)(explanation.Prediction[0] - explanation.BaselinePrediction[0]), 1e-5f, "non-overlapping windows of a linear model add up");
    }

    [Fact]
    public async Task ExplainAsync_OverlappingWindows_AverageTheDropsCoveringEachElement()
    {
        using var request = Request("""{"method": "occlusion", "window": 2, "stride": 1}""");

        var explanation = await Explainer().ExplainAsync(_linear, request, ExplainParameters.Parse(request.ParametersJson), CancellationToken.None);

        // Windows [i, i+2) for i = 0..7 (the last clipped to [7, 8)); f is linear, so a window's drop is the sum of w_j x_j in it.
        double[] w = [0.5, -1.25, 2.0, 0.75, -0.5, 1.5, -2.25, 1.0];
        double[] x = [1.0, 2.0, -0.5, 3.0, 0.25, -1.0, 0.5, 2.5];
        var drops = Enumerable.Range(0, 8).Select(i => Enumerable.Range(i, Math.Min(2, 8 - i)).Sum(j => w[j] * x[j]) / Math.Min(2, 8 - i)).ToArray();
        var expected = Enumerable.Range(0, 8).Select(j => j == 0 ? drops[0] : (drops[j - 1] + drops[j]) / 2);
        explanation.Evaluations.Should().Be(8 + 2);
        explanation.Attributions[0].Values.Select(value => (double)value).Should().Equal(expected, (actual, wanted) => Math.Abs(actual - wanted) <= 1e-5);
    }

    [Fact]
    public async Task ExplainAsync_Cancelled_ThrowsOperationCanceled()
    {
        using var request = Request("""{"method": "shapley"}""");
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        var explain = () => Explainer().ExplainAsync(_linear, request, ExplainParameters.Parse(request.ParametersJson), cancelled.Token);

        await explain.Should().ThrowAsync<OperationCanceledException>();
    }

    [Fact]
    public async Task ExplainAsync_OverBudget_RefusesBeforeRunningAnything()
    {
        using var request = Request("""{"method": "shapley"}""");

        var explain = () => Explainer(budget: 255).ExplainAsync(_linear, request, ExplainParameters.Parse(request.ParametersJson), CancellationToken.None);

        (await explain.Should().ThrowAsync<ServingException>()).Which.Message.Should().Contain("needs 256 evaluations (1 row(s) x 256)");
    }
}
