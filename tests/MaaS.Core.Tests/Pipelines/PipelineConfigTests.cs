using System.Text;
using MaaS.Core.Repository;

namespace MaaS.Core.Tests.Pipelines;

public sealed class PipelineConfigTests
{
    private const string Valid = """
        {"pipeline": {"inner_model": "minilm-onnx", "text": {"vocab": "vocab.txt", "max_length": 128}, "pooling": {"mode": "mean", "normalize": false}}}
        """;

    private static ModelConfig Parse(string json) => ModelConfigReader.Parse(Encoding.UTF8.GetBytes(json));

    [Fact]
    public void Parse_ValidPipeline_KeepsEverySetting()
    {
        var pipeline = Parse(Valid).Pipeline!;

        pipeline.InnerModel.Should().Be("minilm-onnx");
        pipeline.Text!.MaxLength.Should().Be(128);
        pipeline.Pooling!.Normalize.Should().BeFalse();
    }

    [Theory]
    [InlineData("""{"pipeline": {"inner_model": "m", "text": {}, "pooling": {}, "resize": 3}}""", "unknown key 'pipeline.resize'")]
    [InlineData("""{"pipeline": {"inner_model": "m", "text": {"lowercase": true}, "pooling": {}}}""", "unknown key 'pipeline.text.lowercase'")]
    [InlineData("""{"pipeline": {"inner_model": "m", "text": {}, "pooling": {"norm": 1}}}""", "unknown key 'pipeline.pooling.norm'")]
    [InlineData("""{"pipeline": {"text": {}, "pooling": {}}}""", "pipeline.inner_model must name")]
    [InlineData("""{"name": "p", "pipeline": {"inner_model": "p", "text": {}, "pooling": {}}}""", "another model")]
    [InlineData("""{"pipeline": {"inner_model": "m", "pooling": {}}}""", "needs a text step")]
    [InlineData("""{"pipeline": {"inner_model": "m", "text": {}}}""", "needs a pooling step")]
    [InlineData("""{"pipeline": {"inner_model": "m", "text": {"max_length": 2}, "pooling": {}}}""", "pipeline.text.max_length must be an integer from 3 to 8192")]
    [InlineData("""{"pipeline": {"inner_model": "m", "text": {"vocab": "../v.txt"}, "pooling": {}}}""", "plain file name")]
    [InlineData("""{"pipeline": {"inner_model": "m", "text": {}, "pooling": {"mode": "max"}}}""", "expected 'mean'")]
    public void Parse_BadPipeline_FailsNamingTheKey(string json, string message)
    {
        var act = () => Parse(json);

        act.Should().Throw<ModelConfigException>().WithMessage($"*{message}*");
    }
}
