using System.Text;
using System.Text.Json.Nodes;
using MaaS.Core.Repository;

namespace MaaS.Core.Tests;

/// <summary>config.pbtxt read into config.json's JSON form: every syntax of protobuf text format Triton configs use, and its errors.</summary>
public sealed class PbtxtReaderTests
{
    private static JsonObject Read(string pbtxt) => PbtxtReader.Read(Encoding.UTF8.GetBytes(pbtxt));

    private static string ShouldReject(string pbtxt)
    {
        var act = () => Read(pbtxt);
        return act.Should().Throw<ModelConfigException>().Which.Message;
    }

    private static void ShouldBeJson(JsonNode? actual, string expected) =>
        JsonNode.DeepEquals(actual, JsonNode.Parse(expected)).Should().BeTrue($"{actual?.ToJsonString()} should equal {expected}");

    [Fact]
    public void Read_TritonConfig_GivesTheJsonFormOfModelConfig()
    {
        var json = Read("""
            # a model for Triton's ONNX Runtime backend
            name: "mlp"
            platform: "onnxruntime_onnx"
            max_batch_size: 8
            input [
              {
                name: "input"
                data_type: TYPE_FP32
                dims: [ 4 ]
              }
            ]
            output {
              name: "logits"
              data_type: TYPE_FP32
              dims: [ -1 ]
            }
            instance_group [ { count: 2, kind: KIND_CPU } ]
            """);

        ShouldBeJson(json, """
            {
              "name": "mlp", "platform": "onnxruntime_onnx", "max_batch_size": 8,
              "input": [{"name": "input", "data_type": "TYPE_FP32", "dims": [4]}],
              "output": [{"name": "logits", "data_type": "TYPE_FP32", "dims": [-1]}],
              "instance_group": [{"count": 2, "kind": "KIND_CPU"}]
            }
            """);
    }

    [Theory]
    [InlineData("dims: [ 1, 3 ]")]
    [InlineData("dims: 1 dims: 3")]
    [InlineData("dims: 1, dims: 3;")]
    [InlineData("dims: [1] dims: [3]")]
    public void Read_RepeatedScalar_EitherSyntaxGivesOneArray(string dims)
    {
        var json = Read($"input {{ name: \"x\" {dims} }}");

        ShouldBeJson(json["input"]![0]!["dims"], "[1, 3]");
    }

    [Theory]
    [InlineData("input [ { name: \"a\" }, { name: \"b\" } ]")]
    [InlineData("input { name: \"a\" } input { name: \"b\" }")]
    [InlineData("input: { name: \"a\" }, input < name: \"b\" >")]
    [InlineData("input: [ { name: \"a\" } ] input { name: \"b\" };")]
    public void Read_RepeatedMessage_EitherSyntaxGivesOneArray(string inputs)
    {
        ShouldBeJson(Read(inputs)["input"], """[{"name": "a"}, {"name": "b"}]""");
    }

    [Fact]
    public void Read_EmptyList_SetsAnEmptyArray()
    {
        ShouldBeJson(Read("output { name: \"total\" dims: [ ] }")["output"]![0]!["dims"], "[]");
    }

    [Fact]
    public void Read_MapFields_BecomeObjectsKeyedByTheEntryKey()
    {
        var json = Read("""
            parameters { key: "intra_op_thread_count" value { string_value: "2" } }
            parameters: { key: "mode" value: { string_value: "fast" } }
            dynamic_batching { priority_levels: 2 priority_queue_policy { key: 1 value { max_queue_size: 4 timeout_action: DELAY } } }
            metric_tags [ { key: "team" value: "vision" } ]
            """);

        ShouldBeJson(json["parameters"], """{"intra_op_thread_count": {"string_value": "2"}, "mode": {"string_value": "fast"}}""");
        ShouldBeJson(json["dynamic_batching"], """{"priority_levels": 2, "priority_queue_policy": {"1": {"max_queue_size": 4, "timeout_action": "DELAY"}}}""");
        ShouldBeJson(json["metric_tags"], """{"team": "vision"}""");
    }

    [Theory]
    [InlineData("data_type: TYPE_FP32", "TYPE_FP32")]
    [InlineData("data_type: TYPE_STRING", "TYPE_STRING")]
    [InlineData("data_type: 11", "TYPE_FP32")]
    public void Read_EnumByNameOrNumber_GivesTheName(string field, string expected)
    {
        Read($"input {{ {field} }}")["input"]![0]!["data_type"]!.GetValue<string>().Should().Be(expected);
    }

    [Theory]
    [InlineData("\"plain\"", "plain")]
    [InlineData("'single \"quoted\"'", "single \"quoted\"")]
    [InlineData("\"tab\\tnew\\nline \\\\ \\' \\\"\"", "tab\tnew\nline \\ ' \"")]
    [InlineData("\"octal \\101 hex \\x42 unicode \\u00e9\"", "octal A hex B unicode \u00e9")]
    [InlineData("\"utf-8 bytes \\303\\251\"", "utf-8 bytes \u00e9")]
    [InlineData("\"joined \" 'pieces'", "joined pieces")]
    [InlineData("\"caf\u00e9 \u6a21\u578b\"", "caf\u00e9 \u6a21\u578b")]
    public void Read_Strings_DecodeQuotesAndEscapes(string literal, string expected)
    {
        Read($"name: {literal}")["name"]!.GetValue<string>().Should().Be(expected);
    }

    [Fact]
    public void Read_Numbers_IntegersFloatsAndBools()
    {
        var json = Read("""
            max_batch_size: 0x10
            version_policy { specific { versions: [ 1, 03 ] } }
            optimization { graph { level: -1 } input_pinned_memory { enable: false } eager_batching: true }
            sequence_batching { direct { minimum_slot_utilization: 0.5 } control_input { control { fp32_false_true: [ -1.5e1, 2f ] bool_false_true: [ f, True ] } } }
            """);

        json["max_batch_size"]!.GetValue<long>().Should().Be(16);
        ShouldBeJson(json["version_policy"], """{"specific": {"versions": [1, 3]}}""");
        ShouldBeJson(json["optimization"], """{"graph": {"level": -1}, "input_pinned_memory": {"enable": false}, "eager_batching": true}""");
        ShouldBeJson(json["sequence_batching"], """
            {"direct": {"minimum_slot_utilization": 0.5},
             "control_input": [{"control": [{"fp32_false_true": [-15.0, 2.0], "bool_false_true": [false, true]}]}]}
            """);
    }

    [Theory]
    [InlineData("name: \"a\"\nbogus: 1", 2, 1, "a field of ModelConfig (")]
    [InlineData("input {\n  name: \"x\"\n  shape: [1]\n}", 3, 3, "a field of ModelInput (allow_ragged_batch, data_type, dims, format, is_non_linear_format_io")]
    [InlineData("max_batch_size 8", 1, 16, "':' after 'max_batch_size'")]
    [InlineData("max_batch_size: \"8\"", 1, 17, "a 32-bit integer for 'max_batch_size'")]
    [InlineData("max_batch_size: 3000000000", 1, 17, "a 32-bit integer for 'max_batch_size'; 3000000000 is out of range")]
    [InlineData("input { data_type: FP32 }", 1, 20, "one of TYPE_INVALID, TYPE_BOOL")]
    [InlineData("instance_group { kind: KIND_TPU }", 1, 24, "one of KIND_AUTO, KIND_GPU, KIND_CPU, KIND_MODEL for 'kind'")]
    [InlineData("input {\n  name: \"x\"\n", 3, 1, "a field name or '}', not the end of the file")]
    [InlineData("name: \"open", 1, 7, "a string that is closed on its line")]
    [InlineData("input { dims: [1 2] }", 1, 18, "',' or ']' in the list of 'dims'")]
    [InlineData("name: \"a\" name: \"b\"", 1, 11, "'name' once; it is not a repeated field")]
    [InlineData("max_batch_size: [1]", 1, 17, "one value for 'max_batch_size', which is not a repeated field")]
    [InlineData("dynamic_batching: 5", 1, 19, "'{' to open 'dynamic_batching', not '5'")]
    [InlineData("input { optional: maybe }", 1, 19, "true or false for 'optional'")]
    [InlineData("name: \"bad \\q escape\"", 1, 13, "a known escape")]
    [InlineData("name: \"a\" }", 1, 11, "a field name, not '}'")]
    [InlineData("name: \"a\" @", 1, 11, "not '@'")]
    public void Read_Malformed_NamesLineColumnAndWhatWasExpected(string pbtxt, int line, int column, string expected)
    {
        ShouldReject(pbtxt).Should().StartWith($"config.pbtxt line {line}, column {column}: expected ").And.Contain(expected);
    }

    [Fact]
    public void Read_LabelsInPbtxt_AreRefusedAsTritonHasNoSuchField()
    {
        ShouldReject("labels { key: \"stable\" value: 1 }").Should().Contain("line 1, column 1").And.Contain("not 'labels'");
    }

    [Fact]
    public void ParsePbtxt_AdditionsMergedOver_AndCheckedAsConfigJsonIs()
    {
        var (config, json) = ModelConfigReader.ParsePbtxt(
            Encoding.UTF8.GetBytes("name: \"m\" optimization { graph { level: 1 } execution_accelerators { cpu_execution_accelerator { name: \"openvino\" } } }"),
            Encoding.UTF8.GetBytes("""{"labels": {"stable": 2}, "optimization": {"intra_op_threads": 2}}"""));

        config.Labels.Should().Equal(new Dictionary<string, long> { ["stable"] = 2 });
        config.Optimization!.EffectiveGraphLevel.Should().Be("extended");
        config.Optimization.IntraOpThreads.Should().Be(2);
        config.Ignored.Keys.Should().Equal("optimization.execution_accelerators");
        JsonNode.Parse(json)!["optimization"]!["graph"]!["level"]!.GetValue<long>().Should().Be(1);
    }

    [Theory]
    [InlineData("platform: \"tensorflow_savedmodel\"", "config.pbtxt: platform 'tensorflow_savedmodel' is not served here")]
    [InlineData("backend: \"python\"", "config.pbtxt: backend 'python' is not served here")]
    [InlineData("version_policy { }", "config.pbtxt: version_policy needs exactly one of latest, all, specific")]
    public void ParsePbtxt_WellFormedButNotServable_ErrorNamesConfigPbtxt(string pbtxt, string expected)
    {
        var act = () => ModelConfigReader.ParsePbtxt(Encoding.UTF8.GetBytes(pbtxt), []);

        act.Should().Throw<ModelConfigException>().Which.Message.Should().StartWith(expected);
    }

    [Theory]
    [InlineData("platform: \"onnxruntime_onnx\"")]
    [InlineData("backend: \"onnxruntime\"")]
    public void ParsePbtxt_OnnxRuntime_IsServed(string pbtxt)
    {
        var act = () => ModelConfigReader.ParsePbtxt(Encoding.UTF8.GetBytes(pbtxt), []);

        act.Should().NotThrow();
    }

    [Fact]
    public void ParsePbtxt_AdditionsNotAnObject_NamesMaasJson()
    {
        var act = () => ModelConfigReader.ParsePbtxt(Encoding.UTF8.GetBytes("name: \"m\""), Encoding.UTF8.GetBytes("[1]"));

        act.Should().Throw<ModelConfigException>().Which.Message.Should().Be("maas.json must hold a JSON object");
    }

    [Fact]
    public void Schema_EveryMessageAndEnumAFieldNames_IsInTheTable()
    {
        var fields = PbtxtSchema.Messages.Values.SelectMany(message => message.Values)
            .SelectMany(field => field.MapValue is null ? [field] : new[] { field, field.MapValue })
            .ToList();

        fields.Where(field => field.Kind == PbtxtKind.Message).Select(field => field.Type).Should().OnlyContain(type => PbtxtSchema.Messages.ContainsKey(type!));
        fields.Where(field => field.Kind == PbtxtKind.Enum).Select(field => field.Type).Should().OnlyContain(type => PbtxtSchema.Enums.ContainsKey(type!));
        PbtxtSchema.Messages[PbtxtSchema.Root].Should().HaveCount(25, "Triton's ModelConfig has 25 fields");
    }
}
