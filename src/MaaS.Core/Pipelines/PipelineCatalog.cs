using System.Collections.Concurrent;
using MaaS.Core.Config;
using MaaS.Core.Inference;
using MaaS.Core.Registry;

namespace MaaS.Core.Pipelines;

/// <summary>
/// The pipeline models of the registry, each loaded (its vocabulary or labels read) on first use and again when its
/// config changes. A singleton: the registry says which models are pipelines, this holds their loaded steps.
/// </summary>
public sealed class PipelineCatalog(ModelRegistry registry)
{
    private readonly ConcurrentDictionary<string, (string? Stamp, Lazy<Loaded> Pipeline)> _loaded = new(StringComparer.Ordinal);

    /// <summary>
    /// True when <paramref name="name"/> is a pipeline model; its steps are loaded then. A load that fails (a missing
    /// vocabulary) is a 503 naming what is missing, remembered until the model's config changes, so a broken model
    /// reads no file per request.
    /// </summary>
    public bool TryGet(string name, out PipelineModel pipeline)
    {
        pipeline = null!;
        if (!registry.TryGetModel(name, out var model) || model.Directory.Config?.Pipeline is not { } config)
        {
            // Every request of an ordinary model comes here: the lookup is lock-free, a removal takes a bucket lock.
            if (_loaded.ContainsKey(name))
            {
                _loaded.TryRemove(name, out _);
            }

            return false;
        }

        var stamp = model.Directory.ConfigStamp;
        var entry = _loaded.AddOrUpdate(
            name,
            _ => (stamp, Lazy(name, model.Directory.Path, config)),
            (_, current) => current.Stamp == stamp ? current : (stamp, Lazy(name, model.Directory.Path, config)));
        var loaded = entry.Pipeline.Value;
        pipeline = loaded.Pipeline ?? throw new ServingException(loaded.Failure!.Kind, loaded.Failure.Message, loaded.Failure);
        return true;
    }

    /// <summary>The names of the pipeline models that embed text (for <c>/v1/embeddings</c> errors).</summary>
    public IEnumerable<string> TextEmbeddingModels =>
        registry.Models.Where(model => model.Directory.Config?.Pipeline?.Text is not null).Select(model => model.Name);

    /// <summary>The signature of a pipeline model of <paramref name="config"/> around <paramref name="inner"/>, without loading its steps.</summary>
    public static ModelSignature SignatureFor(PipelineConfig config, ModelSignature inner) =>
        config.Image is not null ? ImageClassificationPipeline.SignatureFor(config, inner) : TextEmbeddingPipeline.SignatureFor(config, inner);

    private static PipelineModel Load(string name, string path, PipelineConfig config) =>
        config.Image is not null ? ImageClassificationPipeline.Load(name, path, config) : TextEmbeddingPipeline.Load(name, path, config);

    // One load per config stamp, even when requests race for it; its failure is kept as the load's outcome (a fresh
    // exception per request: a cached exception object would be thrown, and its stack trace rewritten, by many at once).
    private static Lazy<Loaded> Lazy(string name, string path, PipelineConfig config) =>
        new(
            () =>
            {
                try
                {
                    return new Loaded(Load(name, path, config), null);
                }
                catch (ServingException ex)
                {
                    return new Loaded(null, ex);
                }
            },
            LazyThreadSafetyMode.ExecutionAndPublication);

    private sealed record Loaded(PipelineModel? Pipeline, ServingException? Failure);
}
