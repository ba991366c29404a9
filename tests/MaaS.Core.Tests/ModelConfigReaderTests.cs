using System.Text;
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
        config.InstanceGroup.Should().NotBeNull();
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

        config.Ignored.Keys.Should().BeEquivalentTo("sequence_batching", "response_cache");
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
}
