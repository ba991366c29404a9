using System.Collections.Concurrent;
using MaaS.Core.Config;
using MaaS.Core.Inference;
using MaaS.Core.Registry;
using MaaS.Core.Repository;

namespace MaaS.Core.Pipelines;

/// <summary>
/// The pipeline models of the registry, each loaded (its vocabulary or labels read) on first use and again when the
/// registry reads its directory again: its config changed, or it was loaded through the repository API. A singleton:
/// the registry says which models are pipelines, this holds their loaded steps.
/// </summary>
public sealed class PipelineCatalog(ModelRegistry registry)
{
    private readonly ConcurrentDictionary<string, (ModelDirectory Directory, Lazy<Loaded> Pipeline)> _loaded = new(StringComparer.Ordinal);

    /// <summary>
    /// True when <paramref name="name"/> is a pipeline model; its steps are loaded then. A load that fails (a missing
    /// vocabulary) is a 503 naming what is missing, remembered until the directory is read again, so a broken model
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

        var directory = model.Directory;
        var entry = _loaded.AddOrUpdate(
            name,
            _ => (directory, Lazy(name, directory.Path, config)),
            (_, current) => ReferenceEquals(current.Directory, directory) ? current : (directory, Lazy(name, directory.Path, config)));
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

    // One load per directory read, even when requests race for it; its failure is kept as the load's outcome (a fresh
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
