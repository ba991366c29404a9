using System.Globalization;

namespace MaaS.Core.Repository;

/// <summary>
/// Lists the models of a repository root: <c>&lt;root&gt;/&lt;model&gt;/config.json</c> and
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
        ModelConfig? config = null;
        string? error = null;
        var configPath = Path.Combine(path, "config.json");
        string? configStamp = null;
        byte[]? configJson = null;
        if (File.Exists(configPath))
        {
            try
            {
                var bytes = File.ReadAllBytes(configPath);
                configJson = bytes;
                configStamp = ConfigStampOf(bytes);
                config = ModelConfigReader.Parse(bytes);
                if (config.Name is not null && config.Name != name)
                {
                    error = $"config.json names the model '{config.Name}', but its directory is '{name}'";
                    config = null;
                }
            }
            catch (ModelConfigException ex)
            {
                error = ex.Message;
            }
            catch (IOException ex)
            {
                error = $"config.json cannot be read: {ex.Message}";
            }
        }

        var fileName = config?.DefaultModelFilename ?? "model.onnx";
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
        return new ModelDirectory(name, path, config, error, versions) { ConfigStamp = configStamp, ConfigJson = configJson };
    }

    /// <summary>What <see cref="ModelDirectory.ConfigStamp"/> holds for config.json's bytes: their SHA-256 (hex).</summary>
    public static string ConfigStampOf(ReadOnlySpan<byte> json) => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(json));

    private static bool IsVersionName(string name) => name.Length is > 0 and <= 18 && name[0] != '0' && name.All(char.IsAsciiDigit);
}
