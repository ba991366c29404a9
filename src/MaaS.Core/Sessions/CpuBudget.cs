namespace MaaS.Core.Sessions;

/// <summary>
/// The CPUs this process may use, which every version's sessions share: <see cref="Environment.ProcessorCount"/>,
/// which honours the container's CPU quota and the affinity mask (ONNX Runtime's own default counts the host's cores).
/// </summary>
internal sealed record CpuBudget(int Cpus)
{
    public static CpuBudget FromEnvironment() => new(Environment.ProcessorCount);
}
