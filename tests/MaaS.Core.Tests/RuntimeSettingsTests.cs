using System.Text;
using MaaS.Core.Repository;
using MaaS.Core.Sessions;

namespace MaaS.Core.Tests;

public sealed class RuntimeSettingsTests
{
    private static RuntimeSettings From(string configJson, SessionsOptions? defaults = null) =>
        RuntimeSettings.From(ModelConfigReader.Parse(Encoding.UTF8.GetBytes(configJson)), defaults ?? new SessionsOptions());

    [Fact]
    public void From_NoConfig_UsesServerDefaults()
    {
        var settings = RuntimeSettings.From(null, new SessionsOptions { InstanceCount = "3", IntraOpThreads = 2, GraphOptimizationLevel = "basic" });

        settings.Instances.Should().HaveCount(3).And.OnlyContain(instance => instance.Kind == InstanceKind.Auto);
        settings.IntraOpThreads.Should().Be(2);
        settings.GraphOptimizationLevel.Should().Be("basic");
    }

    [Fact]
    public void From_AutoUnlessTheConfigOrTheServerNamesACount()
    {
        RuntimeSettings.From(null, new SessionsOptions()).AutoInstances.Should().BeTrue();
        RuntimeSettings.From(null, new SessionsOptions { InstanceCount = "2" }).AutoInstances.Should().BeFalse();
        From("""{"instance_group": [{"count": 1}]}""").AutoInstances.Should().BeFalse();
    }

    [Theory]
    [InlineData(0, 1, 8, 8)]
    [InlineData(0, 3, 8, 2)]
    [InlineData(0, 4, 2, 1)]
    [InlineData(5, 4, 2, 5)]
    public void ThreadsPerInstance_SharesTheCpusUnlessConfigured(int configured, int instances, int cpus, int expected) =>
        RuntimeSettings.From(null, new SessionsOptions { IntraOpThreads = configured }).ThreadsPerInstance(instances, cpus).Should().Be(expected);

    [Fact]
    public void From_InstanceGroups_ExpandsCountsKindsAndGpus()
    {
        var settings = From("""{"instance_group": [{"count": 2, "kind": "KIND_CPU"}, {"count": 3, "kind": "KIND_GPU", "gpus": [0, 1]}]}""");

        settings.Instances.Select(instance => instance.Kind).Should().Equal(
            InstanceKind.Cpu, InstanceKind.Cpu, InstanceKind.Gpu, InstanceKind.Gpu, InstanceKind.Gpu);
        settings.Instances.Skip(2).Select(instance => instance.DeviceId).Should().Equal(0, 1, 0);
    }

    [Fact]
    public void From_Optimization_OverridesDefaults()
    {
        var settings = From("""{"optimization": {"graph_optimization_level": "disable", "intra_op_threads": 1, "inter_op_threads": 2, "enable_memory_pattern": false, "enable_cpu_mem_arena": false}}""");

        settings.Should().BeEquivalentTo(new { GraphOptimizationLevel = "disable", IntraOpThreads = 1, InterOpThreads = 2, MemoryPattern = false, CpuMemArena = false });
    }

    [Theory]
    [InlineData("""{"instance_group": [{"count": 0}]}""", "instance_group[0].count")]
    [InlineData("""{"instance_group": [{"count": 10000}]}""", "instance_group[0].count")]
    [InlineData("""{"instance_group": [{"count": 40}, {"count": 40}]}""", "asks for 80 instances")]
    [InlineData("""{"instance_group": [{"kind": "KIND_TPU"}]}""", "instance_group[0].kind")]
    [InlineData("""{"instance_group": [{"gpus": [-1]}]}""", "instance_group[0].gpus[0]")]
    [InlineData("""{"instance_group": [{"count": 1, "colour": "red"}]}""", "instance_group[0].colour")]
    [InlineData("""{"optimization": {"intra_op_threads": -1}}""", "optimization.intra_op_threads")]
    [InlineData("""{"optimization": {"graph_optimization_level": "max"}}""", "optimization.graph_optimization_level")]
    [InlineData("""{"optimization": {"threads": 2}}""", "optimization.threads")]
    [InlineData("""{"optimization": {"enable_memory_pattern": "yes"}}""", "optimization.enable_memory_pattern")]
    public void From_BadValue_ThrowsNamingTheKey(string config, string key)
    {
        var act = () => From(config);

        act.Should().Throw<ModelConfigException>().Which.Message.Should().Contain(key);
    }

    [Theory]
    [InlineData(-1, "basic")]
    [InlineData(1, "extended")]
    [InlineData(2, "disable")]
    [InlineData(0, "all")]
    [InlineData(7, "all")]
    public void From_TritonGraphLevel_MappedAsTritonsOnnxRuntimeBackendDoes(int level, string expected)
    {
        var settings = From($$$$"""{"optimization": {"graph": {"level": {{{{level}}}}}, "cuda": {"graphs": true}}}""", new SessionsOptions { GraphOptimizationLevel = "basic" });

        settings.GraphOptimizationLevel.Should().Be(expected);
    }

    [Fact]
    public void From_TritonGraphWithoutLevel_IsTritonsDefault_OursAloneWins()
    {
        From("""{"optimization": {"graph": {}}}""", new SessionsOptions { GraphOptimizationLevel = "basic" }).GraphOptimizationLevel.Should().Be("all");
        From("""{"optimization": {"graph_optimization_level": "extended", "graph": {}}}""").GraphOptimizationLevel.Should().Be("extended");
    }

    [Fact]
    public void From_TritonIntegersAsStrings_Read()
    {
        var settings = From("""{"instance_group": [{"count": "2", "kind": "KIND_GPU", "gpus": ["3"]}], "optimization": {"intra_op_threads": "4"}}""");

        settings.Instances.Should().Equal(new InstancePlacement(InstanceKind.Gpu, 3), new InstancePlacement(InstanceKind.Gpu, 3));
        settings.IntraOpThreads.Should().Be(4);
    }
}
