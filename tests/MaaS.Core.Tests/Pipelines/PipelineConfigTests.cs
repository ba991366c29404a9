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

    [Fact]
    public void Parse_ValidImagePipeline_KeepsEverySetting()
    {
        var pipeline = Parse("""
            {"pipeline": {"inner_model": "cnn",
                          "image": {"channels": "gray", "layout": "NHWC", "resize": "center_crop", "invert": true, "scale": 0.5,
                                    "mean": [0.1], "std": [0.2], "max_images": 8, "max_bytes": 1000, "max_pixels": 4096, "input": "x"},
                          "classification": {"source": "logits", "softmax": true, "top_k": 3, "labels": "names.txt"}}}
            """).Pipeline!;

        pipeline.Image.Should().BeEquivalentTo(new Config.ImageStepConfig
        {
            Channels = "gray", Layout = "NHWC", Resize = "center_crop", Invert = true, Scale = 0.5, Mean = [0.1], Std = [0.2],
            MaxImages = 8, MaxBytes = 1000, MaxPixels = 4096, Input = "x",
        });
        pipeline.Classification.Should().BeEquivalentTo(new Config.ClassificationStepConfig { Source = "logits", Softmax = true, TopK = 3, Labels = "names.txt" });
    }

    [Theory]
    [InlineData("""{"pipeline": {"inner_model": "m", "text": {}, "pooling": {}, "resize": 3}}""", "unknown key 'pipeline.resize'")]
    [InlineData("""{"pipeline": {"inner_model": "m", "text": {"lowercase": true}, "pooling": {}}}""", "unknown key 'pipeline.text.lowercase'")]
    [InlineData("""{"pipeline": {"inner_model": "m", "text": {}, "pooling": {"norm": 1}}}""", "unknown key 'pipeline.pooling.norm'")]
    [InlineData("""{"pipeline": {"text": {}, "pooling": {}}}""", "pipeline.inner_model must name")]
    [InlineData("""{"name": "p", "pipeline": {"inner_model": "p", "text": {}, "pooling": {}}}""", "another model")]
    [InlineData("""{"pipeline": {"inner_model": "m", "pooling": {}}}""", "needs one input step: text (with pooling) or image (with classification)")]
    [InlineData("""{"pipeline": {"inner_model": "m", "text": {}, "image": {}, "pooling": {}}}""", "needs one input step")]
    [InlineData("""{"pipeline": {"inner_model": "m", "text": {}}}""", "needs a pooling step")]
    [InlineData("""{"pipeline": {"inner_model": "m", "text": {}, "pooling": {}, "classification": {}}}""", "and no classification step")]
    [InlineData("""{"pipeline": {"inner_model": "m", "image": {}}}""", "needs a classification step")]
    [InlineData("""{"pipeline": {"inner_model": "m", "image": {}, "classification": {}, "pooling": {}}}""", "and no pooling step")]
    [InlineData("""{"pipeline": {"inner_model": "m", "image": {"size": 28}, "classification": {}}}""", "unknown key 'pipeline.image.size'")]
    [InlineData("""{"pipeline": {"inner_model": "m", "image": {}, "classification": {"k": 3}}}""", "unknown key 'pipeline.classification.k'")]
    [InlineData("""{"pipeline": {"inner_model": "m", "image": {"channels": "rgba"}, "classification": {}}}""", "pipeline.image.channels 'rgba' is not supported; expected 'rgb', 'gray', 'bgr'")]
    [InlineData("""{"pipeline": {"inner_model": "m", "image": {"layout": "CHW"}, "classification": {}}}""", "expected 'NCHW', 'NHWC'")]
    [InlineData("""{"pipeline": {"inner_model": "m", "image": {"resize": "fit"}, "classification": {}}}""", "expected 'stretch', 'center_crop'")]
    [InlineData("""{"pipeline": {"inner_model": "m", "image": {"scale": 0}, "classification": {}}}""", "pipeline.image.scale must be a finite, non-zero number")]
    [InlineData("""{"pipeline": {"inner_model": "m", "image": {"mean": [1, 2]}, "classification": {}}}""", "pipeline.image.mean must hold 1 or 3")]
    [InlineData("""{"pipeline": {"inner_model": "m", "image": {"channels": "gray", "std": [1, 1, 1]}, "classification": {}}}""", "pipeline.image.std must hold 1 finite, non-zero")]
    [InlineData("""{"pipeline": {"inner_model": "m", "image": {"std": [0]}, "classification": {}}}""", "non-zero")]
    [InlineData("""{"pipeline": {"inner_model": "m", "image": {"max_images": 0}, "classification": {}}}""", "pipeline.image.max_images must be an integer from 1 to 4096")]
    [InlineData("""{"pipeline": {"inner_model": "m", "image": {"max_pixels": 268435457}, "classification": {}}}""", "pipeline.image.max_pixels must be an integer from 1")]
    [InlineData("""{"pipeline": {"inner_model": "m", "image": {}, "classification": {"top_k": 0}}}""", "pipeline.classification.top_k must be an integer from 1 to 1000")]
    [InlineData("""{"pipeline": {"inner_model": "m", "image": {}, "classification": {"labels": "a/b.txt"}}}""", "pipeline.classification.labels must be a plain file name")]
    [InlineData("""{"pipeline": {"inner_model": "m", "text": {"max_length": 2}, "pooling": {}}}""", "pipeline.text.max_length must be an integer from 3 to 8192")]
    [InlineData("""{"pipeline": {"inner_model": "m", "text": {"vocab": "../v.txt"}, "pooling": {}}}""", "plain file name")]
    [InlineData("""{"pipeline": {"inner_model": "m", "text": {}, "pooling": {"mode": "max"}}}""", "expected 'mean'")]
    public void Parse_BadPipeline_FailsNamingTheKey(string json, string message)
    {
        var act = () => Parse(json);

        act.Should().Throw<ModelConfigException>().WithMessage($"*{message}*");
    }
}
