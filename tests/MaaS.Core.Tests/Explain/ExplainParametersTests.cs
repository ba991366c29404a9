using System.Text;
using MaaS.Core.Explain;

namespace MaaS.Core.Tests.Explain;

public sealed class ExplainParametersTests
{
    private static ExplainParameters Parse(string json) => ExplainParameters.Parse(Encoding.UTF8.GetBytes(json));

    [Fact]
    public void Parse_Everything_ReadsEachValue()
    {
        var parameters = Parse("""
            {"method": "occlusion", "target": {"output": "logits", "index": 2}, "baseline": 0.5, "samples": 300, "seed": -4,
             "window": [2, 3], "stride": 1, "priority": 1}
            """);

        parameters.Should().BeEquivalentTo(new
        {
            Method = ExplainMethod.Occlusion, TargetOutput = "logits", TargetIndex = 2L, BaselineValue = 0.5, Samples = 300, Seed = -4,
            Window = new[] { 2, 3 }, Stride = new[] { 1 },
        });
    }

    [Fact]
    public void Parse_BaselineTensors_FlattensNestedData()
    {
        var parameters = Parse("""{"baseline": [{"name": "x", "shape": [2, 2], "datatype": "FP32", "data": [[1, 2], [3, 4.5]]}]}""");

        parameters.BaselineTensors["x"].Shape.Should().Equal(2, 2);
        parameters.BaselineTensors["x"].Data.Should().Equal(1, 2, 3, 4.5);
    }

    [Theory]
    [InlineData("""{"method": "lime"}""", "unknown explanation method 'lime'")]
    [InlineData("""{"methd": "shapley"}""", "unknown explanation parameter 'methd'")]
    [InlineData("""{"target": 3}""", "parameter 'target' must be an object")]
    [InlineData("""{"target": {"index": -1}}""", "target 'index' must be an integer of at least 0")]
    [InlineData("""{"baseline": "ones"}""", "parameter 'baseline' must be")]
    [InlineData("""{"baseline": [{"name": "x", "shape": [3], "data": [1, 2]}]}""", "has 2 values; its shape [3] needs 3")]
    [InlineData("""{"samples": 0}""", "'samples' (KernelSHAP coalitions per row) must be an integer of at least 1")]
    [InlineData("""{"window": []}""", "parameter 'window' must be a positive integer")]
    [InlineData("""{"token_inputs": "ids"}""", "'token_inputs' must be an array of input names")]
    public void Parse_BadValue_IsAClientErrorNamingIt(string json, string message)
    {
        var parse = () => Parse(json);

        parse.Should().Throw<ServingException>().Where(ex => ex.Kind == FailureKind.InvalidInput).WithMessage($"*{message}*");
    }

    [Fact]
    public void Parse_Empty_IsEveryDefault()
    {
        var parameters = ExplainParameters.Parse([]);

        parameters.Method.Should().BeNull();
        parameters.BaselineValue.Should().Be(0);
        parameters.TokenInputs.Should().BeEmpty();
    }
}
