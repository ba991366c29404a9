using MaaS.Core.Sessions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;

namespace MaaS.Core.Tests;

/// <summary>The tests run on ONNX Runtime's CPU build, where CUDA can never start: the fallback and strict paths for real.</summary>
public sealed class ExecutionProviderSelectionTests
{
    private static IExecutionProviderFactory Select(string provider, bool strict = false, ILogger? logger = null) =>
        ExecutionProviderSelection.Select(
            Options.Create(new MaaSOptions { ExecutionProvider = provider }),
            Options.Create(new CudaOptions { Strict = strict }),
            new OrtRuntime(Options.Create(new SessionsOptions()), new CpuBudget(2), NullLogger<OrtRuntime>.Instance),
            logger ?? NullLogger.Instance);

    [Fact]
    public void Select_CudaWithoutCuda_LogsOneWarningWithTheCause()
    {
        var logger = new FakeLogger();

        Select("cuda", logger: logger);

        logger.Collector.GetSnapshot().Should().ContainSingle(record => record.Level == LogLevel.Warning)
            .Which.Message.Should().Contain("CUDA cannot start; serving on the CPU instead. Cause:");
    }

    [Fact]
    public void Select_Cpu_IsCpuWithoutFallback()
    {
        var factory = Select("cpu");

        factory.Name.Should().Be("cpu");
        factory.FallbackReason.Should().BeNull();
    }

    [Fact]
    public void Select_CudaWithoutCuda_FallsBackToCpuAndSaysWhy()
    {
        var factory = Select("cuda");

        factory.Name.Should().Be("cpu");
        factory.FallbackReason.Should().StartWith("CUDA could not start:").And.Contain("CUDA");
    }

    [Fact]
    public void Select_StrictCudaWithoutCuda_RefusesNamingCuda()
    {
        var act = () => Select("cuda", strict: true);

        act.Should().Throw<InvalidOperationException>().Which.Message.Should()
            .Contain("MaaS:Cuda:Strict").And.Contain("CUDA execution provider cannot start");
    }
}
