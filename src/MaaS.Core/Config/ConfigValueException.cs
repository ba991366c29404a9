using System.Text.Json;

namespace MaaS.Core.Config;

/// <summary>
/// A value of config.json our converters cannot read; the message says what the value must be, and the serializer
/// adds the path where it stands (so the reader can tell it from the serializer's own type errors).
/// </summary>
internal sealed class ConfigValueException : JsonException
{
    public ConfigValueException()
    {
    }

    public ConfigValueException(string message)
        : base(message)
    {
    }

    public ConfigValueException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
