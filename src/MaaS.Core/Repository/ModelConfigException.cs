namespace MaaS.Core.Repository;

/// <summary>A model's configuration or files cannot be served; the message is the reason the registry reports.</summary>
internal sealed class ModelConfigException : Exception
{
    public ModelConfigException(string message)
        : base(message)
    {
    }

    public ModelConfigException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
