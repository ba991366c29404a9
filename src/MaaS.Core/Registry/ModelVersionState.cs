namespace MaaS.Core.Registry;

/// <summary>Triton's model version states, as the repository index reports them.</summary>
public enum ModelVersionState
{
    Unknown,
    Loading,
    Ready,
    Unloading,
    Unavailable,
}
