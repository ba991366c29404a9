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

    [Fact]
    public void From_TritonOnnxRuntimeParameters_Applied()
    {
        var settings = From("""
            {"parameters": {
              "intra_op_thread_count": {"string_value": "3"}, "inter_op_thread_count": {"string_value": "2"},
              "execution_mode": {"string_value": "1"}, "enable_mem_pattern": {"string_value": "0"}, "enable_mem_arena": {"string_value": "false"}}}
            """);

        settings.Should().BeEquivalentTo(new { IntraOpThreads = 3, InterOpThreads = 2, ParallelExecution = true, MemoryPattern = false, CpuMemArena = false });
    }

    [Fact]
    public void From_NoTritonParameters_ServerDefaultsAndSequentialExecution()
    {
        var settings = From("""{"parameters": {"mode": {"string_value": "fast"}}}""", new SessionsOptions { IntraOpThreads = 6, InterOpThreads = 1, EnableMemoryPattern = false });

        settings.Should().BeEquivalentTo(new { IntraOpThreads = 6, InterOpThreads = 1, ParallelExecution = false, MemoryPattern = false, CpuMemArena = true, IntraOpWithinBudget = false });
    }

    [Fact]
    public void From_OursAndTritonsBothSet_OursWins_TritonsOverDefaults()
    {
        var settings = From(
            """
            {"optimization": {"intra_op_threads": 5, "enable_cpu_mem_arena": true},
             "parameters": {"intra_op_thread_count": {"string_value": "3"}, "inter_op_thread_count": {"string_value": "2"}, "enable_mem_arena": {"string_value": "0"}}}
            """,
            new SessionsOptions { IntraOpThreads = 7, InterOpThreads = 4 });

        settings.Should().BeEquivalentTo(new { IntraOpThreads = 5, InterOpThreads = 2, CpuMemArena = true, IntraOpWithinBudget = false });
    }

    [Theory]
    [InlineData("3", 1, 8, 3)]
    [InlineData("16", 1, 8, 8)]
    [InlineData("16", 4, 8, 2)]
    [InlineData("3", 4, 2, 1)]
    [InlineData("0", 2, 8, 4)]
    public void ThreadsPerInstance_TritonsIntraOpThreadCount_HeldToTheCpuBudget(string count, int instances, int cpus, int expected) =>
        From($$$$"""{"parameters": {"intra_op_thread_count": {"string_value": "{{{{count}}}}"}}}""").ThreadsPerInstance(instances, cpus).Should().Be(expected);

    [Fact]
    public void ThreadsPerInstance_OursOverTritons_TakenAsGiven() =>
        From("""{"optimization": {"intra_op_threads": 16}, "parameters": {"intra_op_thread_count": {"string_value": "2"}}}""")
            .ThreadsPerInstance(1, 8).Should().Be(16);

    [Fact]
    public void Parse_Parameters_TheUnappliedReportedAsIgnored()
    {
        var config = ModelConfigReader.Parse(Encoding.UTF8.GetBytes("""
            {"optimization": {"inter_op_threads": 1},
             "parameters": {
               "intra_op_thread_count": {"string_value": "2"}, "inter_op_thread_count": {"string_value": "4"},
               "execution_mode": {"string_value": "0"}, "memory.enable_memory_arena_shrinkage": {"string_value": "cpu:0"},
               "cudnn_conv_algo_search": {"string_value": "1"}, "team": {"string_value": "vision"}}}
            """));

        config.Ignored.Keys.Should().BeEquivalentTo(
            "parameters.inter_op_thread_count", "parameters.memory.enable_memory_arena_shrinkage", "parameters.cudnn_conv_algo_search", "parameters.team");
        config.Ignored["parameters.team"].GetProperty("string_value").GetString().Should().Be("vision");
    }

    [Theory]
    [InlineData("intra_op_thread_count", "many", "parameters.intra_op_thread_count must be an integer from 0 to 1024, not \"many\"")]
    [InlineData("intra_op_thread_count", "-1", "parameters.intra_op_thread_count must be an integer from 0 to 1024, not \"-1\"")]
    [InlineData("inter_op_thread_count", "2000", "parameters.inter_op_thread_count must be an integer from 0 to 1024, not \"2000\"")]
    [InlineData("execution_mode", "2", "parameters.execution_mode must be \"0\" (sequential) or \"1\" (parallel), not \"2\"")]
    [InlineData("enable_mem_pattern", "yes", "parameters.enable_mem_pattern must be \"1\" or \"0\" (also true/false, on/off), not \"yes\"")]
    [InlineData("enable_mem_arena", "", "parameters.enable_mem_arena must be \"1\" or \"0\" (also true/false, on/off), not \"\"")]
    public void Parse_TritonParameterNotAsTheBackendReadsIt_ThrowsNamingTheKey(string key, string value, string message)
    {
        var act = () => From($$$$"""{"parameters": {"{{{{key}}}}": {"string_value": "{{{{value}}}}"}}}""");

        act.Should().Throw<ModelConfigException>().Which.Message.Should().Be("config.json: " + message);
    }

    [Fact]
    public void Parse_TritonParameterWithoutStringValue_ThrowsNamingTheKey()
    {
        var act = () => From("""{"parameters": {"execution_mode": {}}}""");

        act.Should().Throw<ModelConfigException>().Which.Message.Should().Contain("parameters.execution_mode needs a string_value");
    }

    [Fact]
    public void ParsePbtxt_TritonParameters_AppliedAsFromConfigJson_AndErrorsNameConfigPbtxt()
    {
        var (config, _) = ModelConfigReader.ParsePbtxt(
            Encoding.UTF8.GetBytes("""
                platform: "onnxruntime_onnx"
                parameters { key: "intra_op_thread_count" value: { string_value: "2" } }
                parameters { key: "execution_mode" value: { string_value: "1" } }
                parameters { key: "enable_mem_pattern" value: { string_value: "off" } }
                """),
            []);
        var settings = RuntimeSettings.From(config, new SessionsOptions());

        settings.Should().BeEquivalentTo(new { IntraOpThreads = 2, ParallelExecution = true, MemoryPattern = false, IntraOpWithinBudget = true });
        var bad = () => ModelConfigReader.ParsePbtxt(
            Encoding.UTF8.GetBytes("""parameters { key: "execution_mode" value: { string_value: "parallel" } }"""), []);
        bad.Should().Throw<ModelConfigException>().Which.Message.Should().StartWith("config.pbtxt: parameters.execution_mode must be");
    }
}
