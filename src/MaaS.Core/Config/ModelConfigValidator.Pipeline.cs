using MaaS.Core.Repository;

namespace MaaS.Core.Config;

internal sealed partial class ModelConfigValidator
{
    private void Pipeline()
    {
        if (_config.Pipeline is not { } pipeline)
        {
            return;
        }

        SortKeys(pipeline.Unknown, "pipeline", TritonConfigKeys.None, typeof(PipelineConfig));
        if (string.IsNullOrEmpty(pipeline.InnerModel) || !ModelRepositoryScanner.IsValidModelName(pipeline.InnerModel))
        {
            throw Error("pipeline.inner_model must name the model of the repository that runs the tensors");
        }

        if (pipeline.InnerModel == _config.Name)
        {
            throw Error("pipeline.inner_model must name another model, not the pipeline itself");
        }

        switch (pipeline)
        {
            case { Text: not null, Image: null }:
                TextPipeline(pipeline);
                break;
            case { Image: not null, Text: null }:
                ImagePipeline(pipeline);
                break;
            default:
                throw Error("pipeline needs one input step: text (with pooling) or image (with classification)");
        }
    }

    private void TextPipeline(PipelineConfig pipeline)
    {
        SortKeys(pipeline.Text!.Unknown, "pipeline.text", TritonConfigKeys.None, typeof(TextStepConfig));
        FileName(pipeline.Text.Vocab, "pipeline.text.vocab");
        Range(pipeline.Text.MaxLength, 256, "pipeline.text.max_length", 3, 8192);
        Range(pipeline.Text.MaxTexts, 256, "pipeline.text.max_texts", 1, 4096);
        if (pipeline.Pooling is not { } pooling || pipeline.Classification is not null)
        {
            throw Error("a text pipeline needs a pooling step after the text step (and no classification step)");
        }

        SortKeys(pooling.Unknown, "pipeline.pooling", TritonConfigKeys.None, typeof(PoolingStepConfig));
        if (pooling.Mode is not (null or "mean"))
        {
            throw Error($"pipeline.pooling.mode '{pooling.Mode}' is not supported; expected 'mean'");
        }

        if (pooling.Source is { Length: 0 })
        {
            throw Error("pipeline.pooling.source must name an output of the inner model");
        }
    }

    private void ImagePipeline(PipelineConfig pipeline)
    {
        var image = pipeline.Image!;
        SortKeys(image.Unknown, "pipeline.image", TritonConfigKeys.None, typeof(ImageStepConfig));
        if (image.Input is { Length: 0 })
        {
            throw Error("pipeline.image.input must name an input of the inner model");
        }

        var channels = OneOf(image.Channels, "pipeline.image.channels", "rgb", "gray", "bgr");
        OneOf(image.Layout, "pipeline.image.layout", "NCHW", "NHWC");
        OneOf(image.Resize, "pipeline.image.resize", "stretch", "center_crop");
        if (image.Scale is { } scale && (!double.IsFinite(scale) || scale == 0))
        {
            throw Error("pipeline.image.scale must be a finite, non-zero number");
        }

        PerChannel(image.Mean, "pipeline.image.mean", channels, zeroAllowed: true);
        PerChannel(image.Std, "pipeline.image.std", channels, zeroAllowed: false);
        Range(image.MaxImages, 64, "pipeline.image.max_images", 1, 4096);
        Range(image.MaxBytes, 16 << 20, "pipeline.image.max_bytes", 1, int.MaxValue);
        Range(image.MaxPixels, 1 << 24, "pipeline.image.max_pixels", 1, 1 << 28);
        if (pipeline.Classification is not { } classification || pipeline.Pooling is not null)
        {
            throw Error("an image pipeline needs a classification step after the image step (and no pooling step)");
        }

        SortKeys(classification.Unknown, "pipeline.classification", TritonConfigKeys.None, typeof(ClassificationStepConfig));
        if (classification.Source is { Length: 0 })
        {
            throw Error("pipeline.classification.source must name an output of the inner model");
        }

        Range(classification.TopK, 5, "pipeline.classification.top_k", 1, 1000);
        FileName(classification.Labels, "pipeline.classification.labels");
    }

    private static void FileName(string? name, string path)
    {
        if (name is { } file && (file.Length == 0 || file != Path.GetFileName(file) || file is "." or ".."))
        {
            throw Error($"{path} must be a plain file name in the model's directory");
        }
    }

    /// <summary>The value, or the first allowed one (the default) when absent.</summary>
    private static string OneOf(string? value, string path, params string[] allowed) =>
        value is null ? allowed[0]
        : allowed.Contains(value, StringComparer.Ordinal) ? value
        : throw Error($"{path} '{value}' is not supported; expected {string.Join(", ", allowed.Select(a => $"'{a}'"))}");

    private static void PerChannel(double[]? values, string path, string channels, bool zeroAllowed)
    {
        if (values is null)
        {
            return;
        }

        var count = channels == "gray" ? 1 : 3;
        if ((values.Length != 1 && values.Length != count) || values.Any(v => !double.IsFinite(v) || (!zeroAllowed && v == 0)))
        {
            throw Error($"{path} must hold 1{(count == 1 ? string.Empty : $" or {count}")} finite{(zeroAllowed ? string.Empty : ", non-zero")} numbers (one per channel)");
        }
    }
}
