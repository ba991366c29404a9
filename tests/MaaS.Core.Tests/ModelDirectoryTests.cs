using System.Text;
using MaaS.Core.Repository;

namespace MaaS.Core.Tests;

public sealed class ModelDirectoryTests
{
    private static readonly long[] Versions = [1, 2, 3, 5];

    private static ModelDirectory WithPolicy(string? versionPolicyJson)
    {
        var config = versionPolicyJson is null
            ? null
            : ModelConfigReader.Parse(Encoding.UTF8.GetBytes($$"""{"version_policy": {{versionPolicyJson}}}"""));
        return new ModelDirectory("m", "/repo/m", config, null, Versions);
    }

    [Fact]
    public void SelectVersions_NoConfig_SelectsLatestOnly()
    {
        WithPolicy(null).SelectVersions().Should().Equal(5);
    }

    [Fact]
    public void SelectVersions_ConfigWithoutPolicy_SelectsLatestOnly()
    {
        new ModelDirectory("m", "/repo/m", new ModelConfig(), null, Versions).SelectVersions().Should().Equal(5);
    }

    [Theory]
    [InlineData(1, new long[] { 5 })]
    [InlineData(2, new long[] { 3, 5 })]
    [InlineData(4, new long[] { 1, 2, 3, 5 })]
    [InlineData(10, new long[] { 1, 2, 3, 5 })]
    public void SelectVersions_LatestN_SelectsTheHighestN(int count, long[] expected)
    {
        WithPolicy($$$"""{"latest": {"num_versions": {{{count}}} }}""").SelectVersions().Should().Equal(expected);
    }

    [Fact]
    public void SelectVersions_All_SelectsEveryVersion()
    {
        WithPolicy("""{"all": {}}""").SelectVersions().Should().Equal(1, 2, 3, 5);
    }

    [Theory]
    [InlineData("[1, 3]", new long[] { 1, 3 })]
    [InlineData("[5, 1]", new long[] { 1, 5 })]
    [InlineData("[3, 4, 9]", new long[] { 3 })]
    [InlineData("[4]", new long[0])]
    public void SelectVersions_Specific_SelectsListedVersionsThatExist(string listed, long[] expected)
    {
        WithPolicy($$$"""{"specific": {"versions": {{{listed}}} }}""").SelectVersions().Should().Equal(expected);
    }

    [Fact]
    public void SelectVersions_NoVersions_SelectsNothing()
    {
        new ModelDirectory("m", "/repo/m", null, null, []).SelectVersions().Should().BeEmpty();
    }

    [Fact]
    public void VersionFile_DefaultFileName_IsModelOnnxInTheVersionDirectory()
    {
        var model = new ModelDirectory("m", Path.Combine("repo", "m"), null, null, [1]);

        model.ModelFileName.Should().Be("model.onnx");
        model.VersionFile(12).Should().Be(Path.Combine("repo", "m", "12", "model.onnx"));
    }

    [Fact]
    public void VersionFile_DefaultModelFilenameInConfig_UsesIt()
    {
        var config = ModelConfigReader.Parse("""{"default_model_filename": "net.onnx"}"""u8);
        var model = new ModelDirectory("m", Path.Combine("repo", "m"), config, null, [1]);

        model.VersionFile(3).Should().Be(Path.Combine("repo", "m", "3", "net.onnx"));
    }
}
