using Microsoft.Extensions.Logging;

namespace MaaS.Core.Registry;

public sealed partial class ModelManager
{
    private static partial class Log
    {
        [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "Scanning model repository {Repository}: {ModelCount} models")]
        public static partial void Scanning(ILogger logger, string repository, int modelCount);


        [LoggerMessage(EventId = 1004, Level = LogLevel.Error, Message = "Model {ModelName} is UNAVAILABLE: {Reason}")]
        public static partial void ModelUnavailable(ILogger logger, string modelName, string reason);

        [LoggerMessage(EventId = 1005, Level = LogLevel.Warning, Message = "Model {ModelName}: config keys accepted but not applied: {Keys}")]
        public static partial void IgnoredKeys(ILogger logger, string modelName, string keys);

        [LoggerMessage(EventId = 1008, Level = LogLevel.Warning, Message = "Model {ModelName}: config.json and config.pbtxt both exist; config.json is read and config.pbtxt is not")]
        public static partial void PbtxtShadowed(ILogger logger, string modelName);

        [LoggerMessage(EventId = 1010, Level = LogLevel.Information, Message = "Model {ModelName}: version {ModelVersion} added")]
        public static partial void VersionAdded(ILogger logger, string modelName, long modelVersion);

        [LoggerMessage(EventId = 1011, Level = LogLevel.Information, Message = "Model {ModelName}: version {ModelVersion} deleted")]
        public static partial void VersionDeleted(ILogger logger, string modelName, long modelVersion);

        [LoggerMessage(EventId = 1012, Level = LogLevel.Information, Message = "Model {ModelName}: config replaced")]
        public static partial void ConfigReplaced(ILogger logger, string modelName);

        [LoggerMessage(EventId = 1013, Level = LogLevel.Information, Message = "Model {ModelName}: label {Label} -> version {ModelVersion}")]
        public static partial void LabelMoved(ILogger logger, string modelName, string label, long modelVersion);

        [LoggerMessage(EventId = 1014, Level = LogLevel.Information, Message = "Model {ModelName} removed")]
        public static partial void ModelRemoved(ILogger logger, string modelName);

        [LoggerMessage(EventId = 1015, Level = LogLevel.Information, Message = "Model {ModelName} loaded on request")]
        public static partial void ModelLoadedOnRequest(ILogger logger, string modelName);

        [LoggerMessage(EventId = 1016, Level = LogLevel.Information, Message = "Model {ModelName} unloaded on request")]
        public static partial void ModelUnloaded(ILogger logger, string modelName);

        [LoggerMessage(EventId = 1018, Level = LogLevel.Error, Message = "Model {ModelName}: a failed change could not be taken back from the repository: {Reason}")]
        public static partial void UndoFailed(ILogger logger, string modelName, string reason);
    }
}
