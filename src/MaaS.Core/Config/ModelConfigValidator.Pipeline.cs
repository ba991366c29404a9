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

        if (pipeline.Text is null)
        {
            throw Error("pipeline needs a text step (the only input step so far)");
        }

        SortKeys(pipeline.Text.Unknown, "pipeline.text", TritonConfigKeys.None, typeof(TextStepConfig));
        if (pipeline.Text.Vocab is { } vocab && (vocab.Length == 0 || vocab != Path.GetFileName(vocab) || vocab is "." or ".."))
        {
            throw Error("pipeline.text.vocab must be a plain file name in the model's directory");
        }

        Range(pipeline.Text.MaxLength, 256, "pipeline.text.max_length", 3, 8192);
        Range(pipeline.Text.MaxTexts, 256, "pipeline.text.max_texts", 1, 4096);
        if (pipeline.Pooling is not { } pooling)
        {
            throw Error("pipeline needs a pooling step after the text step (the only output step so far)");
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
}
