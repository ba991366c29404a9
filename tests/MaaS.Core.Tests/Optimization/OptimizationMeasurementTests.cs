using System.Runtime.InteropServices;
using System.Text;
using MaaS.Core.Inference;
using MaaS.Core.Optimization;
using MaaS.Core.Tensors;
using Microsoft.ML.OnnxRuntime;

namespace MaaS.Core.Tests.Optimization;

/// <summary>The optimize request, the acceptance bounds, the accuracy figures and the validation inputs, without HTTP or models.</summary>
public sealed class OptimizationMeasurementTests
{
    private static readonly ModelSignature Transformer = new(
        64,
        [new TensorSpec("input_ids", TensorDataType.Int64, [-1]), new TensorSpec("attention_mask", TensorDataType.Int64, [-1])],
        [new TensorSpec("logits", TensorDataType.Fp32, [2])]);

    private static readonly ModelSignature Mlp = new(
        64, [new TensorSpec("input", TensorDataType.Fp32, [4])], [new TensorSpec("logits", TensorDataType.Fp32, [3])]);

    [Fact]
    public void Parse_FullBody_ReadsEveryField()
    {
        var request = OptimizeRequest.Parse("""
            {"method": "int8", "inputs": [{"name": "input", "datatype": "FP32", "shape": [1, 4], "data": [1, 2, 3, 4]}],
             "max_abs_diff": 0.05, "min_cosine": 0.99, "min_top1_agreement": 0.9, "label": "candidate"}
            """u8.ToArray());

        request.Should().BeEquivalentTo(new { Method = "int8", MaxAbsDiff = 0.05, MinCosine = 0.99, MinTop1Agreement = 0.9, Label = "candidate" });
        Encoding.UTF8.GetString(request.Inputs!).Should().StartWith("[{\"name\":\"input\"");
    }

    [Theory]
    [InlineData("""{"method": 8}""", "\"method\" must be a non-empty string")]
    [InlineData("""{"method": "graph", "min_top1_agreement": 1.5}""", "\"min_top1_agreement\" must be a number from 0 to 1")]
    [InlineData("""{"method": "graph", "inputs": []}""", "\"inputs\" must be a non-empty array")]
    [InlineData("""[{"method": "graph"}]""", "not a JSON object")]
    [InlineData("""{"method": "graph", "Method": "x"}""", "unknown key \"Method\"")]
    public void Parse_BadBody_Is400NamingTheProblem(string body, string message)
    {
        var parse = () => OptimizeRequest.Parse(Encoding.UTF8.GetBytes(body));

        parse.Should().Throw<ServingException>().Where(ex => ex.Kind == FailureKind.InvalidInput).WithMessage($"*{message}*");
    }

    [Fact]
    public void Bounds_RequestReplacesOnlyTheBoundsItSets()
    {
        var bounds = AcceptanceBounds.For("int8", new OptimizeRequest { Method = "int8", MaxAbsDiff = 0.5 });

        bounds.Should().Be(new AcceptanceBounds(0.5, 0.98, null));
        AcceptanceBounds.DefaultFor("graph").Should().Be(new AcceptanceBounds(1e-4, null, null));
    }

    [Fact]
    public void Check_NamesEveryBrokenBoundWithItsValue_AndNaNBreaksThem()
    {
        var bounds = new AcceptanceBounds(0.01, 0.99, 0.95);

        bounds.Check(new AccuracyFigures(0.005, 0.001, 0.995, 1.0)).Should().BeNull();
        bounds.Check(new AccuracyFigures(0.02, 0.001, 0.9, 0.5)).Should()
            .Contain("max_abs_diff 0.02 is above the bound 0.01").And.Contain("min_cosine 0.9 is below the bound 0.99").And.Contain("top1_agreement 0.5 is below the bound 0.95");
        bounds.Check(new AccuracyFigures(double.NaN, double.NaN, double.NaN, null)).Should().Contain("max_abs_diff NaN").And.Contain("min_cosine NaN");
        bounds.Check(new AccuracyFigures(0, 0, 1, null)).Should().BeNull("top-1 is not bounded where no output has a class axis");
    }

    [Fact]
    public void Difference_RowsAlongTheLastAxis_GiveMaxMeanCosineAndTop1()
    {
        var difference = new OutputDifference();
        using (var source = Tensor([1f, 2f, 3f, 0f, 1f, 0f], [2, 3]))
        using (var candidate = Tensor([1f, 2f, 3.5f, 0f, 0f, 1f], [2, 3]))
        {
            difference.Add("logits", source, candidate);
        }

        var figures = difference.Figures();

        figures.MaxAbsDiff.Should().Be(1.0);
        figures.MeanAbsDiff.Should().BeApproximately(2.5 / 6, 1e-12);
        figures.MinCosine.Should().BeApproximately(0, 1e-12, "the second row turned 90 degrees");
        figures.Top1Agreement.Should().Be(0.5, "the first row keeps its argmax, the second does not");
    }

    [Fact]
    public void Difference_ARank3Output_HasNoTop1Figure()
    {
        var difference = new OutputDifference();
        using (var source = Tensor([1f, 2f, 3f, 0f, 1f, 0f], [1, 2, 3]))
        using (var candidate = Tensor([1f, 2f, 3.5f, 0f, 0f, 1f], [1, 2, 3]))
        {
            difference.Add("last_hidden_state", source, candidate);
        }

        var figures = difference.Figures();

        figures.Top1Agreement.Should().BeNull("a sequence's hidden states have no class axis");
        figures.MinCosine.Should().BeApproximately(0, 1e-12, "rows are still taken along the last axis");
    }

    [Fact]
    public void Difference_NaNInBothIsEqual_NaNInOneMakesTheFiguresNaN_ZeroRowsAreAlike()
    {
        var both = new OutputDifference();
        using (var source = Tensor([float.NaN, 0f], [2]))
        using (var candidate = Tensor([float.NaN, 0f], [2]))
        {
            both.Add("out", source, candidate);
        }

        var one = new OutputDifference();
        using (var source = Tensor([1f, 0f], [2]))
        using (var candidate = Tensor([float.NaN, 0f], [2]))
        {
            one.Add("out", source, candidate);
        }

        both.Figures().Should().Be(new AccuracyFigures(0, 0, 1, null), "a rank-1 output has no class axis");
        double.IsNaN(one.Figures().MaxAbsDiff).Should().BeTrue();
        double.IsNaN(OutputDifference.Worst([both.Figures(), one.Figures()]).MaxAbsDiff).Should().BeTrue();
    }

    [Fact]
    public void Difference_ShapesDiffer_Is422()
    {
        var difference = new OutputDifference();
        using var source = Tensor([1f, 2f], [1, 2]);
        using var candidate = Tensor([1f, 2f], [2, 1]);

        var add = () => difference.Add("logits", source, candidate);

        add.Should().Throw<ServingException>().Where(ex => ex.Kind == FailureKind.Unprocessable).WithMessage("*output 'logits'*");
    }

    [Fact]
    public void Worst_TakesMaxOfMaxMeanOfMeanMinOfCosineAndTop1()
    {
        var worst = OutputDifference.Worst([new AccuracyFigures(0.1, 0.02, 0.99, null), new AccuracyFigures(0.05, 0.04, 0.97, 0.9)]);

        worst.Should().Be(new AccuracyFigures(0.1, 0.03, 0.97, 0.9));
    }

    [Fact]
    public void Generate_IsSeeded_Batch1_VariableDims8_MasksOnes_IdsInRange()
    {
        using var first = ValidationInputs.Generate(Transformer, new GeneratedShape(8, 100));
        using var second = ValidationInputs.Generate(Transformer, new GeneratedShape(8, 100));

        first.Source.Should().Be("generated");
        first.Requests.Should().HaveCount(ValidationInputs.GeneratedCount);
        for (var i = 0; i < first.Requests.Count; i++)
        {
            first.Requests[i].Inputs[0].Data.Span.SequenceEqual(second.Requests[i].Inputs[0].Data.Span).Should().BeTrue("a fixed seed makes the same inputs");
        }

        var ids = MemoryMarshal.Cast<byte, long>(first.Requests[0].Inputs[0].Data.Span).ToArray();
        first.Requests[0].Inputs[0].Shape.Should().Equal(1, 8);
        ids.Should().OnlyContain(id => id >= 0 && id < 100).And.Subject.Distinct().Should().HaveCountGreaterThan(1);
        MemoryMarshal.Cast<byte, long>(first.Requests[0].Inputs[1].Data.Span).ToArray().Should().Equal(1, 1, 1, 1, 1, 1, 1, 1);
        first.Requests[0].Outputs.Select(output => output.Name).Should().Equal("logits");
    }

    [Fact]
    public void Generate_FloatsAreInMinusOneToOne()
    {
        using var inputs = ValidationInputs.Generate(Mlp, new GeneratedShape(8, 100));

        var values = inputs.Requests.SelectMany(request => MemoryMarshal.Cast<byte, float>(request.Inputs[0].Data.Span).ToArray()).ToList();
        values.Should().HaveCount(ValidationInputs.GeneratedCount * 4).And.OnlyContain(value => value >= -1 && value < 1);
        values.Should().Contain(value => value < 0).And.Contain(value => value > 0);
    }

    [Fact]
    public void FromRequest_SplitsABatchIntoBatch1Requests()
    {
        var json = """[{"name": "input", "datatype": "FP32", "shape": [3, 4], "data": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]}]"""u8.ToArray();

        using var inputs = ValidationInputs.FromRequest(json, Mlp);

        inputs.Source.Should().Be("request");
        inputs.Requests.Select(request => request.Inputs[0].Shape).Should().AllSatisfy(shape => shape.Should().Equal(1, 4));
        MemoryMarshal.Cast<byte, float>(inputs.Requests[2].Inputs[0].Data.Span).ToArray().Should().Equal(9, 10, 11, 12);
    }

    [Fact]
    public void FromRequest_MoreRowsThanTheLimit_Is400()
    {
        var rows = ValidationInputs.MaxRequests + 1;
        var json = Encoding.UTF8.GetBytes($$"""[{"name": "input", "datatype": "FP32", "shape": [{{rows}}, 4], "data": [{{string.Join(',', Enumerable.Repeat(0, rows * 4))}}]}]""");

        var wide = new ModelSignature(128, Mlp.Inputs, Mlp.Outputs);

        var read = () => ValidationInputs.FromRequest(json, wide);

        read.Should().Throw<ServingException>().Where(ex => ex.Kind == FailureKind.InvalidInput).WithMessage($"*more than {ValidationInputs.MaxRequests} rows*");
    }

    private static OrtValue Tensor(float[] values, long[] shape) => OrtValue.CreateTensorValueFromMemory(values, shape);
}
