using MaaS.Core.Inference;
using MaaS.Core.Repository;
using Microsoft.Extensions.Options;
using Microsoft.ML.OnnxRuntime;

namespace MaaS.Core.Sessions;

/// <summary>Creates the session for one model version and works out the signature it serves.</summary>
public sealed class OnnxModelLoader(IExecutionProviderFactory providers, IOptions<MaaSOptions> options)
{
    /// <summary>Loads <paramref name="version"/> of <paramref name="model"/>; throws <see cref="ModelConfigException"/> with the reason it cannot be served.</summary>
    public OnnxModel Load(ModelDirectory model, long version)
    {
        var file = model.VersionFile(version);
        InferenceSession session;
        try
        {
            using var sessionOptions = providers.CreateSessionOptions();
            session = new InferenceSession(file, sessionOptions);
        }
        catch (OnnxRuntimeException ex)
        {
            // Name the file as the repository knows it: the server's own paths are none of the client's business.
            var shown = $"{model.Name}/{version}/{model.ModelFileName}";
            throw new ModelConfigException($"ONNX Runtime cannot load {shown}: {ex.Message.Replace(file, shown, StringComparison.Ordinal)}", ex);
        }

        try
        {
            var signature = SignatureBuilder.Build(model.Config, session.InputMetadata, session.OutputMetadata, options.Value.DefaultMaxBatchSize);
            return new OnnxModel(session, WithLabels(signature, model), providers.Name);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    private static ModelSignature WithLabels(ModelSignature signature, ModelDirectory model)
    {
        var outputs = signature.Outputs.Select(spec => spec with { Labels = ReadLabels(model.Path, spec.LabelFileName) }).ToList();
        return new ModelSignature(signature.MaxBatchSize, signature.Inputs, outputs);
    }

    /// <summary>The output's label_filename, else the model's labels.txt when present.</summary>
    private static string[]? ReadLabels(string modelPath, string? fileName)
    {
        var path = Path.Combine(modelPath, fileName ?? "labels.txt");
        if (!File.Exists(path))
        {
            return fileName is null ? null : throw new ModelConfigException($"label_filename '{fileName}' does not exist in the model's directory");
        }

        try
        {
            return File.ReadAllLines(path);
        }
        catch (IOException ex)
        {
            throw new ModelConfigException($"labels file '{Path.GetFileName(path)}' cannot be read: {ex.Message}", ex);
        }
    }
}
