using System.Text;
using System.Text.Json;
using MaaS.Core.Batching;
using MaaS.Core.Config;
using MaaS.Core.Repository;

namespace MaaS.Core.Tests;

public sealed class ModelConfigReaderTests
{
    private static ModelConfig Parse(string json) => ModelConfigReader.Parse(Encoding.UTF8.GetBytes(json));

    private static void ShouldReject(string json, string messagePart)
    {
        var act = () => Parse(json);
        act.Should().Throw<ModelConfigException>().Which.Message.Should().Contain(messagePart);
    }

    [Fact]
    public void Parse_TritonStyleConfig_ReadsEveryField()
    {
        var config = Parse("""
            {
              "name": "mlp",
              "platform": "onnxruntime_onnx",
              "max_batch_size": 64,
              "input": [{"name": "input", "data_type": "TYPE_FP32", "dims": [4]}],
              "output": [{"name": "logits", "data_type": "TYPE_FP32", "dims": [-1], "label_filename": "labels.txt"}],
              "version_policy": {"latest": {"num_versions": 2}},
              "labels": {"stable": 1, "canary": 2},
              "instance_group": [{"count": 2, "kind": "KIND_CPU"}],
              "dynamic_batching": {"max_queue_delay_microseconds": 100}
            }
            """);

        config.Name.Should().Be("mlp");
        config.Platform.Should().Be("onnxruntime_onnx");
        config.MaxBatchSize.Should().Be(64);
        config.Input.Should().ContainSingle();
        config.Input![0].Name.Should().Be("input");
        config.Input[0].DataType.Should().Be("TYPE_FP32");
        config.Input[0].Dims.Should().Equal(4);
        config.Output![0].Dims.Should().Equal(-1);
        config.Output[0].LabelFilename.Should().Be("labels.txt");
        config.VersionPolicy!.Latest!.NumVersions.Should().Be(2);
        config.VersionPolicy.All.Should().BeNull();
        config.VersionPolicy.Specific.Should().BeNull();
        config.Labels.Should().Equal(new Dictionary<string, long> { ["stable"] = 1, ["canary"] = 2 });
        config.InstanceGroup.Should().ContainSingle().Which.Should().BeEquivalentTo(new { Count = 2L, Kind = "KIND_CPU" });
        config.DynamicBatching!.MaxQueueDelayMicroseconds.Should().Be(100);
        config.Ignored.Should().BeEmpty();
    }

    [Fact]
    public void Parse_EmptyObject_LeavesEverythingToInference()
    {
        var config = Parse("{}");

        config.MaxBatchSize.Should().BeNull();
        config.Input.Should().BeNull();
        config.VersionPolicy.Should().BeNull();
    }

    [Fact]
    public void Parse_VersionPolicyAll_Read()
    {
        var policy = Parse("""{"version_policy": {"all": {}}}""").VersionPolicy!;

        policy.All.Should().NotBeNull();
        policy.Latest.Should().BeNull();
        policy.Specific.Should().BeNull();
    }

    [Fact]
    public void Parse_VersionPolicySpecific_Read()
    {
        var policy = Parse("""{"version_policy": {"specific": {"versions": [1, 3]}}}""").VersionPolicy!;

        policy.Specific!.Versions.Should().Equal(1, 3);
        policy.Latest.Should().BeNull();
    }

    [Fact]
    public void Parse_LatestWithoutNumVersions_DefaultsToOne()
    {
        Parse("""{"version_policy": {"latest": {}}}""").VersionPolicy!.Latest!.NumVersions.Should().Be(1);
    }

    [Fact]
    public void Parse_UnknownTopLevelKey_ThrowsNamingIt()
    {
        ShouldReject("""{"name": "m", "max_batch_sise": 4}""", "unknown key 'max_batch_sise'");
    }

    [Theory]
    [InlineData("input", "shape")]
    [InlineData("output", "datatype")]
    public void Parse_UnknownKeyInsideTensor_ThrowsNamingPath(string section, string key)
    {
        ShouldReject($$"""{"{{section}}": [{"name": "t", "{{key}}": 1}]}""", $"unknown key '{section}[0].{key}'");
    }

    [Fact]
    public void Parse_UnknownKeyInSecondTensor_NamesItsIndex()
    {
        ShouldReject("""{"input": [{"name": "a"}, {"name": "b", "typo": true}]}""", "'input[1].typo'");
    }

    [Fact]
    public void Parse_TritonOnlyKeys_AcceptedAndRecordedInIgnored()
    {
        var config = Parse("""
            {
              "name": "m",
              "sequence_batching": {"max_sequence_idle_microseconds": 5000000},
              "response_cache": {"enable": true},
              "input": [{"name": "x", "data_type": "TYPE_FP32", "dims": [3], "reshape": {"shape": [3, 1]}}]
            }
            """);

        // Nested Triton keys are reported too, by path: reshape is not applied either.
        config.Ignored.Keys.Should().BeEquivalentTo("sequence_batching", "response_cache", "input[0].reshape");
        config.Ignored["response_cache"].GetProperty("enable").GetBoolean().Should().BeTrue();
        config.Input![0].Dims.Should().Equal(3);
    }

    [Theory]
    [InlineData("TYPE_FLOAT")]
    [InlineData("FP32")]
    [InlineData("")]
    public void Parse_BadDataType_Throws(string dataType)
    {
        ShouldReject($$"""{"input": [{"name": "x", "data_type": "{{dataType}}", "dims": [3]}]}""", "input[0].data_type");
    }

    [Fact]
    public void Parse_NegativeMaxBatchSize_Throws()
    {
        ShouldReject("""{"max_batch_size": -1}""", "max_batch_size must be 0 or more");
    }

    [Theory]
    [InlineData("\"four\"")]
    [InlineData("1.5")]
    [InlineData("true")]
    public void Parse_MaxBatchSizeNotAnInteger_Throws(string value)
    {
        ShouldReject($$"""{"max_batch_size": {{value}}}""", "config.json");
    }

    [Theory]
    [InlineData("[-2]")]
    [InlineData("[3, -5]")]
    public void Parse_DimsBelowMinusOne_Throws(string dims)
    {
        ShouldReject($$"""{"output": [{"name": "y", "dims": {{dims}}}]}""", "output[0].dims");
    }

    [Fact]
    public void Parse_TensorWithoutName_Throws()
    {
        ShouldReject("""{"input": [{"data_type": "TYPE_FP32"}]}""", "input[0].name is required");
    }

    [Theory]
    [InlineData("""{"latest": {"num_versions": 1}, "all": {}}""")]
    [InlineData("""{"all": {}, "specific": {"versions": [1]}}""")]
    [InlineData("""{}""")]
    public void Parse_VersionPolicyWithoutExactlyOneKind_Throws(string policy)
    {
        ShouldReject($$"""{"version_policy": {{policy}}}""", "exactly one of latest, all, specific");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void Parse_LatestNumVersionsBelowOne_Throws(int count)
    {
        ShouldReject("""{"version_policy": {"latest": {"num_versions": """ + count.ToString(System.Globalization.CultureInfo.InvariantCulture) + "}}}", "num_versions must be 1 or more");
    }

    [Theory]
    [InlineData("[]")]
    [InlineData("[0, 2]")]
    public void Parse_SpecificVersionsEmptyOrNotPositive_Throws(string versions)
    {
        ShouldReject("""{"version_policy": {"specific": {"versions": """ + versions + "}}}", "specific.versions");
    }

    [Fact]
    public void Parse_UnknownKeyInsideVersionPolicy_ThrowsNamingIt()
    {
        // DESIGN.md §3: a key that is neither ours nor Triton's is an error naming the key. A misspelt
        // num_versions must not silently fall back to serving one version.
        ShouldReject("""{"version_policy": {"latest": {"num_version": 3}}}""", "num_version");
    }

    [Theory]
    [InlineData("""{"platform": "tensorrt_plan"}""", "platform 'tensorrt_plan'")]
    [InlineData("""{"backend": "python"}""", "backend 'python'")]
    [InlineData("""{"default_model_filename": "../model.onnx"}""", "default_model_filename")]
    [InlineData("""{"output": [{"name": "y", "label_filename": "../labels.txt"}]}""", "label_filename")]
    public void Parse_ValueThisServerCannotHonour_Throws(string json, string messagePart)
    {
        ShouldReject(json, messagePart);
    }

    [Theory]
    [InlineData("""{"name": }""")]
    [InlineData("""{"name": "m" """)]
    [InlineData("")]
    [InlineData("{'name': 'm'}")]
    public void Parse_MalformedJson_Throws(string json)
    {
        ShouldReject(json, "config.json");
    }

    [Theory]
    [InlineData("[]")]
    [InlineData("\"mlp\"")]
    [InlineData("42")]
    [InlineData("null")]
    public void Parse_NotAnObject_Throws(string json)
    {
        ShouldReject(json, "must hold a JSON object");
    }

    [Theory]
    [InlineData("""{"input": {"name": "x"}}""")]
    [InlineData("""{"input": [42]}""")]
    public void Parse_InputNotAnArrayOfObjects_Throws(string json)
    {
        ShouldReject(json, "input");
    }

    [Fact]
    public void Parse_CommentsAndTrailingCommas_Allowed()
    {
        var config = Parse("""
            // exported by hand
            {
              "name": "m", /* the directory name */
              "max_batch_size": 8,
              "input": [
                {"name": "x", "data_type": "TYPE_INT64", "dims": [-1,],},
              ],
            }
            """);

        config.Name.Should().Be("m");
        config.MaxBatchSize.Should().Be(8);
        config.Input![0].Dims.Should().Equal(-1);
    }

    [Theory]
    [InlineData("100", 100)]
    [InlineData("\"100\"", 100)]
    [InlineData("\"-7\"", -7)]
    [InlineData("\"9223372036854775807\"", long.MaxValue)]
    public void TritonIntegerConverter_NumberOrString_Read(string value, long expected)
    {
        var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(value));
        reader.Read();

        new TritonIntegerConverter().Read(ref reader, typeof(long), JsonSerializerOptions.Default).Should().Be(expected);
    }

    [Theory]
    [InlineData("250")]
    [InlineData("\"250\"")]
    public void TritonInteger_NumberOrString_ReadIntoTheConfig(string value)
    {
        Parse($$$"""{"dynamic_batching": {"max_queue_delay_microseconds": {{{value}}}}}""").DynamicBatching!.MaxQueueDelayMicroseconds.Should().Be(250);
    }

    [Theory]
    [InlineData("\"100us\"")]
    [InlineData("\"\"")]
    [InlineData("\"1.5\"")]
    [InlineData("1.5")]
    [InlineData("\"99999999999999999999\"")]
    [InlineData("99999999999999999999")]
    [InlineData("true")]
    public void TritonInteger_BadStringOrOutOfRange_RefusedNamingThePath(string value)
    {
        ShouldReject($$$"""{"dynamic_batching": {"max_queue_delay_microseconds": {{{value}}}}}""", "config.json: dynamic_batching.max_queue_delay_microseconds must be a 64-bit integer");
    }

    [Fact]
    public void TritonInteger_StringsAcceptedWhereTritonWritesThem()
    {
        var config = Parse("""{"input": [{"name": "x", "dims": ["-1", "4"]}], "version_policy": {"specific": {"versions": ["2"]}}}""");

        config.Input![0].Dims.Should().Equal(-1, 4);
        config.VersionPolicy!.Specific!.Versions.Should().Equal(2);
    }

    [Theory]
    [InlineData("""{"dynamic_batching": {"foo": 1}}""", "dynamic_batching.foo")]
    [InlineData("""{"dynamic_batching": {"default_queue_policy": {"foo": 1}}}""", "dynamic_batching.default_queue_policy.foo")]
    [InlineData("""{"instance_group": [{"count": 1}, {"count": 1, "foo": 1}]}""", "instance_group[1].foo")]
    [InlineData("""{"optimization": {"foo": 1}}""", "optimization.foo")]
    [InlineData("""{"optimization": {"graph": {"level": 1, "foo": 1}}}""", "optimization.graph.foo")]
    [InlineData("""{"model_warmup": [{"inputs": {}, "foo": 1}]}""", "model_warmup[0].foo")]
    [InlineData("""{"model_warmup": [{"inputs": {"x": {"zero_data": true, "foo": 1}}}]}""", "model_warmup[0].inputs.x.foo")]
    [InlineData("""{"parameters": {"p": {"string_value": "v", "foo": 1}}}""", "parameters.p.foo")]
    [InlineData("""{"version_policy": {"all": {"foo": 1}}}""", "version_policy.all.foo")]
    public void UnknownNestedKey_IsAnErrorNamingTheFileAndThePath(string json, string path)
    {
        ShouldReject(json, $"config.json: unknown key '{path}'; expected ");
    }

    [Fact]
    public void UnknownKey_ListsTheKeysThatSectionTakes()
    {
        ShouldReject("""{"dynamic_batching": {"max_queue_delay": 1}}""", "expected preferred_batch_size, max_queue_delay_microseconds, preserve_ordering");
    }

    [Fact]
    public void TritonKeysInSections_AcceptedAndReportedByPath()
    {
        var config = Parse("""
            {
              "instance_group": [{"count": 1, "kind": "KIND_CPU", "rate_limiter": {"priority": 1}, "host_policy": "h"}],
              "output": [{"name": "y", "is_shape_tensor": false}],
              "model_transaction_policy": {"decoupled": false}
            }
            """);

        config.Ignored.Keys.Should().BeEquivalentTo(
            "instance_group[0].rate_limiter", "instance_group[0].host_policy", "output[0].is_shape_tensor", "model_transaction_policy");
        config.Ignored["instance_group[0].rate_limiter"].GetProperty("priority").GetInt32().Should().Be(1);
    }

    [Fact]
    public void TritonOptimizationSubKeys_LiveBesideOurs_GraphLevelMappedTheRestIgnored()
    {
        var config = Parse("""
            {"optimization": {
              "intra_op_threads": 2, "enable_cpu_mem_arena": false,
              "graph": {"level": 1},
              "execution_accelerators": {"cpu_execution_accelerator": [{"name": "openvino"}]},
              "input_pinned_memory": {"enable": true}, "priority": "PRIORITY_MAX"
            }}
            """);

        var optimization = config.Optimization!;
        optimization.IntraOpThreads.Should().Be(2);
        optimization.EnableCpuMemArena.Should().BeFalse();
        optimization.EffectiveGraphLevel.Should().Be("extended");
        config.Ignored.Keys.Should().BeEquivalentTo("optimization.execution_accelerators", "optimization.input_pinned_memory", "optimization.priority");
        ModelConfigReader.ToJson(optimization)!["execution_accelerators"]!["cpu_execution_accelerator"]![0]!["name"]!.GetValue<string>()
            .Should().Be("openvino", "the effective config shows Triton's keys as written");
    }

    [Theory]
    [InlineData("""{"instance_group": [{"kind": "KIND_TPU"}]}""", "instance_group[0].kind 'KIND_TPU' must be KIND_CPU, KIND_GPU, KIND_AUTO or KIND_MODEL")]
    [InlineData("""{"instance_group": [{"count": "2", "gpus": [256]}]}""", "instance_group[0].gpus[0] must be an integer from 0 to 255")]
    [InlineData("""{"instance_group": []}""", "instance_group asks for 0 instances")]
    [InlineData("""{"instance_group": {"count": 1}}""", "instance_group must be an array of JSON objects")]
    [InlineData("""{"instance_group": [null]}""", "instance_group[0] must be a JSON object")]
    [InlineData("""{"optimization": {"inter_op_threads": 1025}}""", "optimization.inter_op_threads must be an integer from 0 to 1024")]
    [InlineData("""{"optimization": {"graph_optimization_level": "all", "graph": {"level": -1}}}""", "optimization.graph.level (Triton's) and optimization.graph_optimization_level (ours) are both set")]
    [InlineData("""{"optimization": {"graph": {"level": 2147483648}}}""", "optimization.graph.level must be an integer")]
    [InlineData("""{"model_warmup": {"inputs": {}}}""", "model_warmup must be an array of JSON objects")]
    [InlineData("""{"model_warmup": [{"batch_size": 0, "inputs": {}}]}""", "model_warmup[0].batch_size must be an integer from 1")]
    [InlineData("""{"max_batch_size": 4, "model_warmup": [{"batch_size": 5, "inputs": {}}]}""", "model_warmup[0].batch_size must be an integer from 1 to 4")]
    [InlineData("""{"model_warmup": [{"count": -1, "inputs": {}}]}""", "model_warmup[0].count must be an integer from 0 to 10000")]
    [InlineData("""{"model_warmup": [{"name": "w"}]}""", "model_warmup[0].inputs must map input names")]
    [InlineData("""{"model_warmup": [{"inputs": {"x": {"data_type": "FP32"}}}]}""", "model_warmup[0].inputs.x.data_type 'FP32' is not a type")]
    [InlineData("""{"model_warmup": [{"inputs": {"x": {"dims": [3, -1]}}}]}""", "model_warmup[0].inputs.x.dims[1] must be an integer from 0")]
    [InlineData("""{"model_warmup": [{"inputs": {"x": {"zero_data": true, "random_data": true}}}]}""", "model_warmup[0].inputs.x may set only one of zero_data, random_data, input_data_file")]
    [InlineData("""{"model_warmup": [{"inputs": {"x": {"input_data_file": "../secret.bin"}}}]}""", "model_warmup[0].inputs.x.input_data_file must name a file in the model's warmup directory")]
    [InlineData("""{"model_warmup": [{"inputs": {"x": {"random_data": "yes"}}}]}""", "model_warmup[0].inputs.x.random_data must be true or false")]
    [InlineData("""{"parameters": {"p": "v"}}""", "parameters.p must be a JSON object")]
    [InlineData("""{"labels": {"stable": 0}}""", "labels.stable must name a version number from 1")]
    [InlineData("""{"max_batch_size": 8, "dynamic_batching": {"preferred_batch_size": [4, 9]}}""", "dynamic_batching.preferred_batch_size[1] must be an integer from 1 to 8")]
    [InlineData("""{"dynamic_batching": {"default_queue_policy": {"timeout_action": "DROP"}}}""", "dynamic_batching.default_queue_policy.timeout_action must be \"REJECT\" or \"DELAY\"")]
    public void EverySection_InvalidValue_RefusedWhenTheConfigIsRead(string json, string message)
    {
        ShouldReject(json, "config.json: " + message);
    }

    [Fact]
    public void EverySection_ValidValues_Read()
    {
        var config = Parse("""
            {
              "max_batch_size": 4,
              "instance_group": [{"name": "g", "count": 2, "kind": "KIND_GPU", "gpus": [1]}],
              "model_warmup": [{"name": "w", "batch_size": 4, "count": 3, "inputs": {"x": {"data_type": "TYPE_FP32", "dims": ["3"], "random_data": true}}}],
              "parameters": {"p": {"string_value": "v"}},
              "dynamic_batching": {"default_queue_policy": {"timeout_action": "DELAY", "max_queue_size": "16"}}
            }
            """);

        config.InstanceGroup![0].Gpus.Should().Equal(1);
        var sample = config.ModelWarmup!.Should().ContainSingle().Subject;
        sample.Should().BeEquivalentTo(new { Name = "w", BatchSize = 4L, Count = 3L });
        sample.Inputs!["x"].Should().BeEquivalentTo(new { DataType = "TYPE_FP32", Dims = new long[] { 3 }, RandomData = true });
        config.Parameters!["p"].StringValue.Should().Be("v");
        config.DynamicBatching!.DefaultQueuePolicy.Should().BeEquivalentTo(new { TimeoutAction = TimeoutAction.Delay, MaxQueueSize = 16L });
    }
}
