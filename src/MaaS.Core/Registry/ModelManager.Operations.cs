using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using MaaS.Core.Repository;

namespace MaaS.Core.Registry;

public sealed partial class ModelManager
{
    private static readonly JsonSerializerOptions IndentedJson = new() { WriteIndented = true };

    /// <summary>Streams an upload into the staging area (413 past <paramref name="maxBytes"/>), hashing it as it goes, and checks it is an ONNX file; dispose it if it is not committed.</summary>
    public async Task<StagedFile> StageUploadAsync(Stream content, long maxBytes, CancellationToken cancellationToken)
    {
        var staged = await StageAsync(content, maxBytes, cancellationToken);
        try
        {
            OnnxFileInspectorGuard(staged.Path);
            return staged;
        }
        catch
        {
            staged.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Adds a staged upload as a version (<paramref name="requestedVersion"/> or the next number): it is loaded beside
    /// what serves, renamed into the repository and published. With <paramref name="configJson"/> the model's config is
    /// replaced too, after every served version has loaded under it. Nothing is written when any step fails.
    /// </summary>
    public async Task<ModelVersion> AddVersionAsync(
        string name, StagedFile staged, long? requestedVersion, byte[]? configJson, CancellationToken cancellationToken)
    {
        RequireValidName(name, "model");
        var config = configJson is null ? null : ParseConfig(name, configJson);
        ModelVersion added;
        using (await _locks.LockAsync(name, cancellationToken))
        {
            added = AddVersionLocked(name, staged, requestedVersion, configJson, config);
        }

        _cache.EnforceBudget();
        return added;
    }

    private ModelVersion AddVersionLocked(string name, StagedFile staged, long? requestedVersion, byte[]? configJson, ModelConfig? config)
    {
        var existing = _store.Find(name);
        var directory = existing ?? EmptyDirectory(name);
        if (configJson is null && directory.ConfigError is not null)
        {
            throw new ServingException(FailureKind.Conflict, $"model '{name}' has a config.json that cannot be used; replace it first: {directory.ConfigError}");
        }

        var version = requestedVersion ?? (directory.Versions.Count == 0 ? 1 : directory.Versions[^1] + 1);
        if (version < 1 || directory.Versions.Contains(version))
        {
            throw new ServingException(
                version < 1 ? FailureKind.InvalidInput : FailureKind.Conflict,
                version < 1 ? "version must be a positive integer" : $"model '{name}' version {version} already exists");
        }

        var written = WithConfig(directory, config, configJson) with { Versions = [.. directory.Versions, version] };
        var planned = written with { ConfigStamp = configJson is null ? directory.ConfigStamp : "uploaded", Staged = new Dictionary<long, StagedFile> { [version] = staged } };
        var prepared = Prepare(planned, force: false, strict: true);
        try
        {
            _store.CommitVersion(staged, name, version, planned.ModelFileName);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ServingException)
        {
            prepared.Abandon();
            throw StorageFailure(ex);
        }

        // The config goes second: a version directory can be taken back whole, a replaced config.json cannot.
        if (configJson is not null)
        {
            try
            {
                _store.WriteConfig(name, ModelConfigFiles.Json, configJson);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                prepared.Abandon();
                Undo(name, () =>
                {
                    if (existing is null)
                    {
                        _store.DeleteModel(name);
                    }
                    else
                    {
                        _store.DeleteVersion(name, version);
                    }
                });
                throw StorageFailure(ex);
            }
        }

        Publish(prepared, written, strict: true);
        Log.VersionAdded(_logger, name, version);
        return _registry.GetModel(name).Versions.TryGetValue(version, out var added) ? added : ModelVersion.Unavailable(version, "not selected by the version policy");
    }

    /// <summary>
    /// Replaces the model's config file after every version it selects has loaded under it (400 naming the problem
    /// otherwise). <paramref name="format"/> is the body's: it must be the model's, so a config.pbtxt stays pbtxt (and
    /// loadable by Triton) and a config.json stays JSON; a config.pbtxt model keeps its maas.json additions. A model
    /// without a config file takes either.
    /// </summary>
    public async Task ReplaceConfigAsync(string name, byte[] content, ModelConfigFormat format, CancellationToken cancellationToken)
    {
        var config = format == ModelConfigFormat.Json ? ParseConfig(name, content) : null;
        using (await _locks.LockAsync(name, cancellationToken))
        {
            var directory = _store.Find(name) ?? throw ServingException.ModelNotFound(name);

            // A model without a config file (all inferred) may start with either format.
            var hasConfigFile = directory.Format == ModelConfigFormat.Pbtxt || directory.ConfigJson is not null || directory.ConfigError is not null;
            if (directory.Format != format && hasConfigFile)
            {
                throw ServingException.Invalid(directory.Format == ModelConfigFormat.Pbtxt
                    ? $"model '{name}' is configured by {ModelConfigFiles.Pbtxt}; send its config in protobuf text format as text/plain"
                    : $"model '{name}' is configured by {ModelConfigFiles.Json}; send its config as application/json");
            }

            var written = config is null ? WithPbtxt(directory, name, content, directory.Additions) : WithConfig(directory, config, content);
            var prepared = Prepare(written with { ConfigStamp = "replaced" }, force: true, strict: true);
            WriteConfigOrAbandon(name, ModelConfigFiles.FileName(format), content, prepared);
            Publish(prepared, written, strict: true);
            Log.ConfigReplaced(_logger, name);
        }

        _cache.EnforceBudget();
    }

    /// <summary>Points <paramref name="label"/> at a version that exists and loads (409 otherwise); the version is served while labelled.</summary>
    public async Task SetLabelAsync(string name, string label, long version, CancellationToken cancellationToken)
    {
        RequireValidName(label, "label");
        using (await _locks.LockAsync(name, cancellationToken))
        {
            var directory = UsableDirectory(name);
            if (!directory.Versions.Contains(version))
            {
                throw new ServingException(FailureKind.Conflict, $"model '{name}' has no version {version} to label '{label}'");
            }

            var (file, content, written) = EditLabels(directory, labels => labels[label] = version);
            PreparedModel prepared;
            try
            {
                // Only the labels change: what serves now is kept, and only a newly labelled version is loaded.
                prepared = Prepare(written with { ConfigStamp = directory.ConfigStamp }, force: false, strict: true);
            }
            catch (ServingException ex) when (ex.Kind == FailureKind.InvalidInput)
            {
                throw new ServingException(FailureKind.Conflict, $"label '{label}' cannot point at version {version}: {ex.Message}", ex);
            }

            WriteConfigOrAbandon(name, file, content, prepared);
            Publish(prepared, written, strict: true);
            Log.LabelMoved(_logger, name, label, version);
        }

        _cache.EnforceBudget();
    }

    public async Task RemoveLabelAsync(string name, string label, CancellationToken cancellationToken)
    {
        using (await _locks.LockAsync(name, cancellationToken))
        {
            var directory = UsableDirectory(name);
            if (!directory.Labels.ContainsKey(label))
            {
                throw new ServingException(FailureKind.VersionNotFound, $"model '{name}' has no label '{label}'");
            }

            var (file, content, written) = EditLabels(directory, labels => labels.Remove(label));
            var prepared = Prepare(written with { ConfigStamp = directory.ConfigStamp }, force: false, strict: false);
            WriteConfigOrAbandon(name, file, content, prepared);
            Publish(prepared, written);
        }

        _cache.EnforceBudget();
    }

    /// <summary>Unloads and deletes a version; 409 while a label points at it.</summary>
    public async Task DeleteVersionAsync(string name, long version, CancellationToken cancellationToken)
    {
        using (await _locks.LockAsync(name, cancellationToken))
        {
            var directory = _store.Find(name) ?? throw ServingException.ModelNotFound(name);
            if (!directory.Versions.Contains(version))
            {
                throw ServingException.VersionNotFound(name, version);
            }

            var labels = directory.Labels.Where(label => label.Value == version).Select(label => label.Key).ToList();
            if (labels.Count > 0)
            {
                throw new ServingException(
                    FailureKind.Conflict, $"model '{name}' version {version} is labelled {string.Join(", ", labels)}; move or remove the label first");
            }

            Guard(() => _store.DeleteVersion(name, version));
            var remaining = directory with { Versions = [.. directory.Versions.Where(number => number != version)] };
            Publish(Prepare(remaining, force: false, strict: false), remaining);
            Log.VersionDeleted(_logger, name, version);
        }

        _cache.EnforceBudget();
    }

    public async Task DeleteModelAsync(string name, CancellationToken cancellationToken)
    {
        using (await _locks.LockAsync(name, cancellationToken))
        {
            if (_store.Find(name) is null && !_registry.TryGetModel(name, out _))
            {
                throw ServingException.ModelNotFound(name);
            }

            Guard(() => _store.DeleteModel(name));
            _registry.Remove(name);
            Log.ModelRemoved(_logger, name);
        }
    }

    /// <summary>
    /// Triton's repository load: load or reload the model from disk (every version anew), or, with
    /// <paramref name="configJson"/> and <paramref name="files"/> (version -> a staged model file, see
    /// <see cref="StageUploadAsync"/>), write them as the model first. The model serves again after an unload. Load
    /// failures are 400s and change nothing. The caller disposes the staged files.
    /// </summary>
    public async Task LoadAsync(string name, byte[]? configJson, IReadOnlyDictionary<long, StagedFile> files, CancellationToken cancellationToken)
    {
        RequireValidName(name, "model");
        if (files.Count > 0 && configJson is null)
        {
            throw ServingException.Invalid("file: parameters need a \"config\" parameter too");
        }

        var config = configJson is null ? null : ParseConfig(name, configJson);
        using (await _locks.LockAsync(name, cancellationToken))
        {
            LoadLocked(name, configJson, config, files);
        }

        _cache.EnforceBudget();
    }

    private void LoadLocked(string name, byte[]? configJson, ModelConfig? config, IReadOnlyDictionary<long, StagedFile> staged)
    {
        var directory = _store.Find(name);
        if (directory is null && configJson is null)
        {
            throw ServingException.ModelNotFound(name);
        }

        var created = directory is null;
        // A config.pbtxt model has no config.json to restore: taking the write back deletes it.
        var previousConfig = configJson is null || created || directory!.Format != ModelConfigFormat.Json ? null : directory.ConfigJson;
        directory ??= EmptyDirectory(name);
        var written = configJson is null ? directory : WithConfig(directory, config, configJson) with
        {
            Versions = staged.Count > 0 ? [.. staged.Keys.Order()] : directory.Versions,
        };
        var prepared = Prepare(written with { Staged = staged }, force: true, strict: true);
        var configWritten = false;
        try
        {
            if (configJson is not null)
            {
                _store.WriteConfig(name, ModelConfigFiles.Json, configJson);
                configWritten = true;
            }

            // The files replace the model's versions, as Triton's override directory does.
            if (staged.Count > 0)
            {
                _store.ReplaceVersions(name, staged, written.ModelFileName);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            prepared.Abandon();
            if (created)
            {
                Undo(name, () => _store.DeleteModel(name));
            }
            else if (configWritten)
            {
                Undo(name, () =>
                {
                    if (previousConfig is null)
                    {
                        _store.DeleteConfig(name, ModelConfigFiles.Json);
                    }
                    else
                    {
                        _store.WriteConfig(name, ModelConfigFiles.Json, previousConfig);
                    }
                });
            }

            throw StorageFailure(ex);
        }

        Publish(prepared, written, strict: true);
        Log.ModelLoadedOnRequest(_logger, name);
    }

    /// <summary>Triton's repository unload: the versions stop serving (after their requests end) until the next load.</summary>
    public async Task UnloadAsync(string name, CancellationToken cancellationToken)
    {
        using (await _locks.LockAsync(name, cancellationToken))
        {
            var model = _registry.GetModel(name);
            Publish(Unloaded(model.Directory), model.Directory, unloaded: true);
            Log.ModelUnloaded(_logger, name);
        }
    }

    /// <summary>
    /// The directory as it will be once <paramref name="json"/> is written as its config.json, which wins over a
    /// config.pbtxt beside it.
    /// </summary>
    private static ModelDirectory WithConfig(ModelDirectory directory, ModelConfig? config, byte[]? json) => json is null
        ? directory
        : directory with
        {
            Config = config,
            ConfigError = null,
            ConfigJson = json,
            ConfigStamp = ModelRepositoryScanner.ConfigStampOf(json),
            Format = ModelConfigFormat.Json,
            ConfigText = null,
            Additions = null,
            PbtxtShadowed = directory.PbtxtShadowed || directory.Format == ModelConfigFormat.Pbtxt,
        };

    /// <summary>The directory as it will be once <paramref name="pbtxt"/> and <paramref name="additions"/> are its config.pbtxt and maas.json (400 when they do not read).</summary>
    private static ModelDirectory WithPbtxt(ModelDirectory directory, string name, byte[] pbtxt, byte[]? additions)
    {
        try
        {
            var (config, json) = ModelConfigReader.ParsePbtxt(pbtxt, additions);
            return config.Name is null || config.Name == name
                ? directory with
                {
                    Config = config,
                    ConfigError = null,
                    ConfigJson = json,
                    ConfigStamp = ModelRepositoryScanner.ConfigStampOf(pbtxt, additions),
                    Format = ModelConfigFormat.Pbtxt,
                    ConfigText = pbtxt,
                    Additions = additions,
                }
                : throw ServingException.Invalid($"{ModelConfigFiles.Pbtxt} names the model '{config.Name}', but it is being written to '{name}'");
        }
        catch (ModelConfigException ex)
        {
            throw new ServingException(FailureKind.InvalidInput, ex.Message, ex);
        }
    }

    private async Task<StagedFile> StageAsync(Stream content, long maxBytes, CancellationToken cancellationToken)
    {
        try
        {
            var staged = await _store.StageAsync(content, maxBytes, cancellationToken);
            if (staged.Size == 0)
            {
                staged.Dispose();
                throw ServingException.Invalid("the model file is empty");
            }

            return staged;
        }
        catch (IOException ex) when (StorageErrors.IsDiskFull(ex))
        {
            throw StorageFailure(ex);
        }
    }

    private static void OnnxFileInspectorGuard(string path)
    {
        try
        {
            OnnxFileInspector.Inspect(path);
        }
        catch (ModelConfigException ex)
        {
            throw new ServingException(FailureKind.InvalidInput, ex.Message, ex);
        }
    }

    private ModelDirectory UsableDirectory(string name)
    {
        var directory = _store.Find(name) ?? throw ServingException.ModelNotFound(name);
        return directory.ConfigError is null
            ? directory
            : throw new ServingException(FailureKind.Conflict, $"model '{name}' has a config.json that cannot be used; replace it first: {directory.ConfigError}");
    }

    private ModelDirectory EmptyDirectory(string name) => new(name, Path.Combine(_store.Root, name), null, null, []);

    private static ModelConfig ParseConfig(string name, byte[] json)
    {
        try
        {
            var config = ModelConfigReader.Parse(json);
            return config.Name is null || config.Name == name
                ? config
                : throw ServingException.Invalid($"config.json names the model '{config.Name}', but it is being written to '{name}'");
        }
        catch (ModelConfigException ex)
        {
            throw new ServingException(FailureKind.InvalidInput, ex.Message, ex);
        }
    }

    /// <summary>
    /// The file that holds the labels, edited, and the directory as it will be once it is written: config.json with its
    /// labels edited and everything else kept as the user wrote it, or, for a config.pbtxt model, maas.json, so that
    /// config.pbtxt is never touched and stays loadable by Triton. The labels come from the typed config (Triton's
    /// integers may be written as strings), so the edit never trips over how a label was written.
    /// </summary>
    private static (string File, byte[] Content, ModelDirectory Written) EditLabels(ModelDirectory directory, Action<Dictionary<string, long>> edit)
    {
        var pbtxt = directory.Format == ModelConfigFormat.Pbtxt;
        var source = pbtxt ? directory.Additions : directory.ConfigJson;
        var root = source is null ? new JsonObject() : JsonNode.Parse(source, documentOptions: new JsonDocumentOptions
        {
            CommentHandling = JsonCommentHandling.Skip,
            AllowTrailingCommas = true,
        })!.AsObject();
        var labels = new Dictionary<string, long>(directory.Labels, StringComparer.Ordinal);
        edit(labels);
        root["labels"] = new JsonObject(labels.OrderBy(pair => pair.Key, StringComparer.Ordinal)
            .Select(pair => KeyValuePair.Create(pair.Key, (JsonNode?)pair.Value)));
        var content = Encoding.UTF8.GetBytes(root.ToJsonString(IndentedJson));
        return pbtxt
            ? (ModelConfigFiles.Additions, content, WithPbtxt(directory, directory.Name, directory.ConfigText!, content))
            : (ModelConfigFiles.Json, content, WithConfig(directory, ParseConfig(directory.Name, content), content));
    }

    private void WriteConfigOrAbandon(string name, string file, byte[] content, PreparedModel prepared)
    {
        try
        {
            _store.WriteConfig(name, file, content);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            prepared.Abandon();
            throw StorageFailure(ex);
        }
    }

    /// <summary>Takes back an earlier write after a later one failed. If that fails too it is logged: the client hears the first failure.</summary>
    private void Undo(string name, Action undo)
    {
        try
        {
            undo();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Log.UndoFailed(_logger, name, ex.Message);
        }
    }

    private static void Guard(Action write)
    {
        try
        {
            write();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw StorageFailure(ex);
        }
    }

    private static ServingException StorageFailure(Exception ex) => ex switch
    {
        ServingException serving => serving,
        IOException io when StorageErrors.IsDiskFull(io) => new ServingException(
            FailureKind.InsufficientStorage, "the model repository's disk is full; nothing was written", ex),
        _ => throw new IOException($"the model repository could not be written: {ex.Message}", ex),
    };

    private static void RequireValidName(string name, string what)
    {
        if (!ModelRepositoryScanner.IsValidModelName(name))
        {
            throw ServingException.Invalid(
                $"'{name}' is not a valid {what} name: use letters, digits, '_', '-' and '.', not starting with '.', at most {ModelRepositoryScanner.MaxModelNameLength} characters");
        }
    }
}
