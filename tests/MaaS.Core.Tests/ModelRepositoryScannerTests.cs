using MaaS.Core.Repository;
using MaaS.Core.Tests.Infrastructure;

namespace MaaS.Core.Tests;

public sealed class ModelRepositoryScannerTests : IDisposable
{
    private readonly TempDirectory _root = new();

    public void Dispose() => _root.Dispose();

    private void AddVersion(string model, string version, string fileName = "model.onnx") =>
        _root.WriteFile(Path.Combine(model, version, fileName));

    [Fact]
    public void Scan_ModelsWithVersions_ListedByNameWithSortedVersions()
    {
        AddVersion("beta", "10");
        AddVersion("beta", "2");
        AddVersion("beta", "1");
        AddVersion("alpha", "3");

        var models = ModelRepositoryScanner.Scan(_root.Path);

        models.Select(model => model.Name).Should().Equal("alpha", "beta");
        models[1].Versions.Should().Equal(1, 2, 10);
        models[1].Path.Should().Be(Path.Combine(_root.Path, "beta"));
        models[1].Config.Should().BeNull();
        models[1].ConfigError.Should().BeNull();
    }

    [Theory]
    [InlineData("0")]
    [InlineData("01")]
    [InlineData("abc")]
    [InlineData("-1")]
    [InlineData("1.0")]
    [InlineData("+2")]
    [InlineData(" 3")]
    [InlineData("1234567890123456789")]
    public void Scan_VersionDirectoryNotAPositiveInteger_Ignored(string version)
    {
        AddVersion("m", "4");
        AddVersion("m", version);

        ModelRepositoryScanner.Scan(_root.Path).Single().Versions.Should().Equal(4);
    }

    [Fact]
    public void Scan_VersionDirectoryWithoutModelFile_Ignored()
    {
        AddVersion("m", "1");
        _root.WriteFile(Path.Combine("m", "2", "model.onnx.tmp"));
        _root.CreateDirectory(Path.Combine("m", "3"));

        ModelRepositoryScanner.Scan(_root.Path).Single().Versions.Should().Equal(1);
    }

    [Fact]
    public void Scan_DefaultModelFilename_CountsOnlyVersionsHoldingThatFile()
    {
        _root.WriteFile(Path.Combine("m", "config.json"), """{"default_model_filename": "net.onnx"}""");
        AddVersion("m", "1", "net.onnx");
        AddVersion("m", "2");

        var model = ModelRepositoryScanner.Scan(_root.Path).Single();

        model.Versions.Should().Equal(1);
        model.ModelFileName.Should().Be("net.onnx");
    }

    [Fact]
    public void Scan_DirectoryWithNeitherConfigNorVersions_IsNotAModel()
    {
        AddVersion("m", "1");
        _root.WriteFile(Path.Combine("tools", "export.py"), "print(1)");
        _root.WriteFile(Path.Combine("tools", "reference", "m", "1.json"), "{}");
        _root.CreateDirectory("empty");

        ModelRepositoryScanner.Scan(_root.Path).Select(model => model.Name).Should().Equal("m");
    }

    [Fact]
    public void Scan_ConfigWithoutVersions_IsAModelWithNoVersions()
    {
        _root.WriteFile(Path.Combine("m", "config.json"), """{"name": "m"}""");

        var model = ModelRepositoryScanner.Scan(_root.Path).Single();

        model.Config.Should().NotBeNull();
        model.Versions.Should().BeEmpty();
    }

    [Theory]
    [InlineData(".hidden")]
    [InlineData("has space")]
    [InlineData("a+b")]
    [InlineData("naïve")]
    public void Scan_InvalidModelName_Skipped(string name)
    {
        AddVersion("ok", "1");
        AddVersion(name, "1");

        ModelRepositoryScanner.Scan(_root.Path).Select(model => model.Name).Should().Equal("ok");
    }

    [Fact]
    public void Scan_ConfigNameMismatch_BecomesConfigError()
    {
        _root.WriteFile(Path.Combine("m", "config.json"), """{"name": "other"}""");
        AddVersion("m", "1");

        var model = ModelRepositoryScanner.Scan(_root.Path).Single();

        model.Config.Should().BeNull();
        model.ConfigError.Should().Contain("'other'").And.Contain("'m'");
        model.Versions.Should().Equal(1);
    }

    [Fact]
    public void Scan_InvalidConfig_BecomesConfigErrorAndModelStaysListed()
    {
        _root.WriteFile(Path.Combine("m", "config.json"), """{"max_batch": 4}""");
        AddVersion("m", "1");

        var model = ModelRepositoryScanner.Scan(_root.Path).Single();

        model.Config.Should().BeNull();
        model.ConfigError.Should().Contain("max_batch");
    }

    [Fact]
    public void Scan_ConfigWithoutName_TakesTheDirectoryName()
    {
        _root.WriteFile(Path.Combine("m", "config.json"), """{"max_batch_size": 4}""");
        AddVersion("m", "1");

        var model = ModelRepositoryScanner.Scan(_root.Path).Single();

        model.Name.Should().Be("m");
        model.Config!.MaxBatchSize.Should().Be(4);
        model.ConfigError.Should().BeNull();
    }

    [Fact]
    public void Scan_MissingRoot_ThrowsDirectoryNotFound()
    {
        var act = () => ModelRepositoryScanner.Scan(Path.Combine(_root.Path, "nope"));

        act.Should().Throw<DirectoryNotFoundException>();
    }

    [Fact]
    public void Scan_BundledRepository_FindsTheModelsAndNotToolsOrSamples()
    {
        var models = ModelRepositoryScanner.Scan(RepositoryPaths.Models);

        models.Select(model => model.Name).Should().Equal(
            "all-minilm-l6-v2", "all-minilm-l6-v2-onnx", "cnn", "digits", "linear", "logistic", "mlp", "rnn", "transformer");
        models.Single(model => model.Name == "rnn").Versions.Should().Equal(1, 2);
        models.Single(model => model.Name == "all-minilm-l6-v2").Config!.Pipeline!.InnerModel.Should().Be("all-minilm-l6-v2-onnx");
        // all-minilm-l6-v2-onnx/1/model.onnx is written by the server's build, which may run after these tests;
        // the server's tests (which build it first) serve that version.
        models.Should().OnlyContain(model => model.ConfigError == null);
    }

    [Theory]
    [InlineData("mlp", true)]
    [InlineData("A.b-c_9", true)]
    [InlineData("", false)]
    [InlineData(".x", false)]
    [InlineData("a/b", false)]
    [InlineData("a b", false)]
    [InlineData("é", false)]
    public void IsValidModelName_Name_ReturnsExpected(string name, bool expected)
    {
        ModelRepositoryScanner.IsValidModelName(name).Should().Be(expected);
    }

    [Fact]
    public void IsValidModelName_LengthLimit_Is128()
    {
        ModelRepositoryScanner.IsValidModelName(new string('a', 128)).Should().BeTrue();
        ModelRepositoryScanner.IsValidModelName(new string('a', 129)).Should().BeFalse();
    }

    [Fact]
    public void ReadModel_OnlyConfigPbtxt_ReadWithMaasJsonMergedOver()
    {
        AddVersion("m", "1", "net.onnx");
        _root.WriteFile(Path.Combine("m", "config.pbtxt"), "name: \"m\"\ndefault_model_filename: \"net.onnx\"\nmax_batch_size: 4");
        _root.WriteFile(Path.Combine("m", "maas.json"), """{"labels": {"stable": 1}}""");

        var model = ModelRepositoryScanner.Scan(_root.Path).Single();

        model.ConfigError.Should().BeNull();
        model.Format.Should().Be(ModelConfigFormat.Pbtxt);
        model.Config!.MaxBatchSize.Should().Be(4);
        model.Labels.Should().Equal(new Dictionary<string, long> { ["stable"] = 1 });
        model.Versions.Should().Equal(1);
        model.PbtxtShadowed.Should().BeFalse();
    }

    [Fact]
    public void ReadModel_BothConfigFiles_ConfigJsonWins()
    {
        AddVersion("m", "1");
        _root.WriteFile(Path.Combine("m", "config.json"), """{"max_batch_size": 2}""");
        _root.WriteFile(Path.Combine("m", "config.pbtxt"), "max_batch_size: 8");

        var model = ModelRepositoryScanner.Scan(_root.Path).Single();

        model.Format.Should().Be(ModelConfigFormat.Json);
        model.Config!.MaxBatchSize.Should().Be(2);
        model.PbtxtShadowed.Should().BeTrue();
    }

    [Fact]
    public void ReadModel_MalformedConfigPbtxt_ErrorWithLineAndColumn()
    {
        AddVersion("m", "1");
        _root.WriteFile(Path.Combine("m", "config.pbtxt"), "name: \"m\"\ninput {\n  dims: [1,\n}");

        var model = ModelRepositoryScanner.Scan(_root.Path).Single();

        model.Config.Should().BeNull();
        model.ConfigError.Should().Be("config.pbtxt line 4, column 1: expected a 64-bit integer for 'dims', not '}'");
    }

    [Fact]
    public void ReadModel_ConfigPbtxtNamesAnotherModel_Error()
    {
        AddVersion("m", "1");
        _root.WriteFile(Path.Combine("m", "config.pbtxt"), "name: \"other\"");

        ModelRepositoryScanner.Scan(_root.Path).Single().ConfigError.Should().Be("config.pbtxt names the model 'other', but its directory is 'm'");
    }
}
