using System.Diagnostics;
using System.Globalization;
using MaaS.Core.Repository;
using MaaS.Core.Sessions;
using Microsoft.Extensions.Logging;

namespace MaaS.Core.Registry;

/// <summary>
/// Loads one version of a model directory into a READY <see cref="ModelVersion"/> (sessions created and warmed up),
/// or an UNAVAILABLE one with the reason. Shared by the writer (<see cref="ModelManager"/>) and the loaded-model cache
/// (reloads of evicted versions); it changes nothing in the registry itself.
/// </summary>
internal sealed partial class VersionLoader(IModelStore store, OnnxModelLoader loader, ModelRegistry registry, TimeProvider time, ILogger<VersionLoader> logger)
{
    private long _loads;

    /// <summary>Versions loaded since start (startup, changes, and reloads of evicted versions).</summary>
    public long Loads => Interlocked.Read(ref _loads);

    /// <summary>
    /// Loads <paramref name="number"/>. With <paramref name="strict"/> a failure throws a 400 naming the version;
    /// otherwise the version comes back UNAVAILABLE with the reason (and the failure is logged).
    /// </summary>
    public ModelVersion Load(ModelDirectory directory, long number, bool strict)
    {
        var file = directory.VersionFile(number);
        var label = number.ToString(CultureInfo.InvariantCulture);
        var started = Stopwatch.GetTimestamp();
        try
        {
            // A staged upload was hashed while it streamed in: carry that over instead of reading the file again.
            var record = directory.Staged?.TryGetValue(number, out var staged) == true
                ? new VersionRecord(staged.Sha256, staged.Size, time.GetUtcNow(), staged.DerivedFrom)
                : store.ReadRecord(directory.Name, number);
            var info = VersionFileInfo.Read(file, record);
            var model = loader.Load(directory, number, onlyVersion: IsOnlyVersion(directory.Name, number));
            var elapsedMs = (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            Log.VersionLoaded(logger, directory.Name, label, model.ExecutionProvider, elapsedMs, model.Choice);
            Interlocked.Increment(ref _loads);
            var version = ModelVersion.Ready(number, model, info);
            version.Touch(time.GetTimestamp());
            return version;
        }
        catch (Exception ex) when (ex is ModelConfigException or IOException or UnauthorizedAccessException)
        {
            var reason = ex is ModelConfigException ? ModelConfigFiles.InFileOf(directory.Format, ex.Message) : ex.Message;
            if (strict)
            {
                throw new ServingException(FailureKind.InvalidInput, $"model '{directory.Name}' version {number} cannot be loaded: {reason}", ex);
            }

            Log.VersionFailed(logger, directory.Name, label, reason);
            return ModelVersion.Unavailable(number, reason, SafeInfo(file));
        }
    }

    /// <summary>
    /// True when no other version is loaded or loading (startup publishes every version it will load as LOADING first,
    /// so the first of many does not count as alone): a version alone may let its thread pool spin.
    /// </summary>
    private bool IsOnlyVersion(string name, long number) =>
        !registry.Models.Any(model => model.Versions.Any(entry =>
            entry.Value.State is ModelVersionState.Ready or ModelVersionState.Loading && !(model.Name == name && entry.Key == number)));

    private static VersionFileInfo? SafeInfo(string file)
    {
        var info = new FileInfo(file);
        return info.Exists ? new VersionFileInfo(info.Length, info.LastWriteTimeUtc, null, null) : null;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1002, Level = LogLevel.Information, Message = "Loaded {ModelName} v{ModelVersion} on {Provider} in {ElapsedMs} ms, instances {Instances}")]
        public static partial void VersionLoaded(ILogger logger, string modelName, string modelVersion, string provider, long elapsedMs, InstanceChoice? instances);

        [LoggerMessage(EventId = 1003, Level = LogLevel.Error, Message = "Model {ModelName} v{ModelVersion} is UNAVAILABLE: {Reason}")]
        public static partial void VersionFailed(ILogger logger, string modelName, string modelVersion, string reason);
    }
}
