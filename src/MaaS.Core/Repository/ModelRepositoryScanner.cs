using System.Globalization;

namespace MaaS.Core.Repository;

/// <summary>
/// Lists the models of a repository root: <c>&lt;root&gt;/&lt;model&gt;/config.json</c> (or config.pbtxt) and
/// <c>&lt;root&gt;/&lt;model&gt;/&lt;version&gt;/model.onnx</c>. A directory with neither a config nor a version
/// directory (e.g. <c>models/tools</c>) is not a model.
/// </summary>
internal static class ModelRepositoryScanner
{
    public const int MaxModelNameLength = 128;

    public static IReadOnlyList<ModelDirectory> Scan(string root)
    {
        if (!Directory.Exists(root))
        {
            throw new DirectoryNotFoundException($"model repository '{root}' does not exist");
        }

        var models = new List<ModelDirectory>();
        foreach (var path in Directory.EnumerateDirectories(root).Order(StringComparer.Ordinal))
        {
            var name = Path.GetFileName(path);
            if (!IsValidModelName(name))
            {
                continue;
            }

            var model = ReadModel(name, path);
            if (model.Config is not null || model.ConfigError is not null || model.Versions.Count > 0)
            {
                models.Add(model);
            }
        }

        return models;
    }

    /// <summary>Letters, digits, '_', '-' and '.', not starting with '.', at most <see cref="MaxModelNameLength"/> characters.</summary>
    public static bool IsValidModelName(string name) =>
        name.Length is > 0 and <= MaxModelNameLength
        && name[0] != '.'
        && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.');

    public static ModelDirectory ReadModel(string name, string path)
    {
        var jsonPath = Path.Combine(path, ModelConfigFiles.Json);
        var pbtxtPath = Path.Combine(path, ModelConfigFiles.Pbtxt);
        var model = File.Exists(jsonPath) ? ReadJsonConfig(name, path, jsonPath) with { PbtxtShadowed = File.Exists(pbtxtPath) }
            : File.Exists(pbtxtPath) ? ReadPbtxtConfig(name, path, pbtxtPath)
            : new ModelDirectory(name, path, null, null, []);
        return model with { Versions = ListVersions(path, model.Config?.DefaultModelFilename ?? "model.onnx") };
    }

    /// <summary>What <see cref="ModelDirectory.ConfigStamp"/> holds for config.json's bytes: their SHA-256 (hex).</summary>
    public static string ConfigStampOf(ReadOnlySpan<byte> json) => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(json));

    /// <summary>The stamp of a config.pbtxt model: both files count, so a label moved in maas.json is a change too.</summary>
    public static string ConfigStampOf(ReadOnlySpan<byte> pbtxt, ReadOnlySpan<byte> additions) =>
        ConfigStampOf([.. pbtxt, 0, .. additions]);

    private static ModelDirectory ReadJsonConfig(string name, string path, string configPath)
    {
        ModelConfig? config = null;
        string? error = null;
        byte[]? bytes = null;
        try
        {
            bytes = File.ReadAllBytes(configPath);
            config = CheckName(ModelConfigReader.Parse(bytes), ModelConfigFiles.Json, name, ref error);
        }
        catch (ModelConfigException ex)
        {
            error = ex.Message;
        }
        catch (IOException ex)
        {
            error = $"{ModelConfigFiles.Json} cannot be read: {ex.Message}";
        }

        return new ModelDirectory(name, path, config, error, [])
        {
            ConfigStamp = bytes is null ? null : ConfigStampOf(bytes),
            ConfigJson = bytes,
        };
    }

    private static ModelDirectory ReadPbtxtConfig(string name, string path, string pbtxtPath)
    {
        ModelConfig? config = null;
        string? error = null;
        byte[]? pbtxt = null;
        byte[]? additions = null;
        byte[]? json = null;
        try
        {
            pbtxt = File.ReadAllBytes(pbtxtPath);
            var additionsPath = Path.Combine(path, ModelConfigFiles.Additions);
            additions = File.Exists(additionsPath) ? File.ReadAllBytes(additionsPath) : null;
            (config, json) = ModelConfigReader.ParsePbtxt(pbtxt, additions);
            config = CheckName(config, ModelConfigFiles.Pbtxt, name, ref error);
        }
        catch (ModelConfigException ex)
        {
            error = ex.Message;
        }
        catch (IOException ex)
        {
            error = $"{ModelConfigFiles.Pbtxt} or {ModelConfigFiles.Additions} cannot be read: {ex.Message}";
        }

        return new ModelDirectory(name, path, config, error, [])
        {
            Format = ModelConfigFormat.Pbtxt,
            ConfigStamp = pbtxt is null ? null : ConfigStampOf(pbtxt, additions),
            ConfigJson = json,
            ConfigText = pbtxt,
            Additions = additions,
        };
    }

    private static ModelConfig? CheckName(ModelConfig config, string file, string name, ref string? error)
    {
        if (config.Name is null || config.Name == name)
        {
            return config;
        }

        error = $"{file} names the model '{config.Name}', but its directory is '{name}'";
        return null;
    }

    private static List<long> ListVersions(string path, string fileName)
    {
        var versions = new List<long>();
        foreach (var versionPath in Directory.EnumerateDirectories(path))
        {
            var versionName = Path.GetFileName(versionPath);
            if (IsVersionName(versionName)
                && long.TryParse(versionName, NumberStyles.None, CultureInfo.InvariantCulture, out var version)
                && File.Exists(Path.Combine(versionPath, fileName)))
            {
                versions.Add(version);
            }
        }

        versions.Sort();
        return versions;
    }

    private static bool IsVersionName(string name) => name.Length is > 0 and <= 18 && name[0] != '0' && name.All(char.IsAsciiDigit);
}
