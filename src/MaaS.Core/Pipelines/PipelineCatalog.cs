using System.Collections.Concurrent;
using MaaS.Core.Registry;

namespace MaaS.Core.Pipelines;

/// <summary>
/// The pipeline models of the registry, each loaded (its vocabulary read) on first use and again when its config
/// changes. A singleton: the registry says which models are pipelines, this holds their loaded steps.
/// </summary>
public sealed class PipelineCatalog(ModelRegistry registry)
{
    private readonly ConcurrentDictionary<string, (string? Stamp, Lazy<TextEmbeddingPipeline> Pipeline)> _loaded = new(StringComparer.Ordinal);

    /// <summary>True when <paramref name="name"/> is a pipeline model; its steps are loaded then (a missing vocabulary is a 503 naming it).</summary>
    public bool TryGet(string name, out TextEmbeddingPipeline pipeline)
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
        pipeline = entry.Pipeline.Value;
        return true;
    }

    /// <summary>The names of the pipeline models that embed text (for <c>/v1/embeddings</c> errors).</summary>
    public IEnumerable<string> TextEmbeddingModels =>
        registry.Models.Where(model => model.Directory.Config?.Pipeline?.Text is not null).Select(model => model.Name);

    private static Lazy<TextEmbeddingPipeline> Lazy(string name, string path, Config.PipelineConfig config) =>
        new(() => TextEmbeddingPipeline.Load(name, path, config), LazyThreadSafetyMode.PublicationOnly);
}
