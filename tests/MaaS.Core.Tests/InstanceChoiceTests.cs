using System.ComponentModel.DataAnnotations;
using System.Runtime.InteropServices;
using System.Text.Json;
using MaaS.Core.Inference;
using MaaS.Core.Repository;
using MaaS.Core.Sessions;
using MaaS.Core.Tensors;
using MaaS.Core.Tests.Infrastructure;

namespace MaaS.Core.Tests;

/// <summary>
/// How many sessions a version runs and with how many threads each: the CPU budget shared among the instances, and
/// <c>MaaS:Sessions:InstanceCount auto</c>, which times one session with every CPU against several smaller ones.
/// </summary>
public sealed class InstanceChoiceTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    private ModelDirectory Mlp(string? config = null)
    {
        var target = _temp.CreateDirectory(Path.Combine("m", "1"));
        File.Copy(Path.Combine(RepositoryPaths.Models, "mlp", "1", "model.onnx"), Path.Combine(target, "model.onnx"), overwrite: true);
        if (config is not null)
        {
            _temp.WriteFile(Path.Combine("m", "config.json"), config);
        }

        return ModelRepositoryScanner.ReadModel("m", Path.Combine(_temp.Path, "m"));
    }

    [Theory]
    [InlineData(2, 2)]
    [InlineData(8, 4)]
    [InlineData(64, 4)]
    public void Auto_TimesOneSessionWithEveryCpuAgainstOnePerCpu_AndKeepsSeveralUnlessOneIsClearlyFaster(int cpus, int several)
    {
        using var model = TestLoaders.Create(cpus: cpus).Load(Mlp(), 1);

        var choice = model.Choice!;
        choice.Source.Should().Be(InstanceChoice.Auto);
        choice.Timings.Select(timing => (timing.Instances, timing.IntraOpThreads)).Should().Equal((1, cpus), (several, cpus / several));
        choice.Timings.Should().OnlyContain(timing => timing.RunsPerSecond > 0);
        var expected = choice.Timings[0].RunsPerSecond > OnnxModelLoader.ChoiceMargin * choice.Timings[1].RunsPerSecond ? 1 : several;
        choice.Instances.Should().Be(expected);
        model.InstanceCount.Should().Be(expected, "the pool kept is the one chosen");
        choice.IntraOpThreads.Should().Be(cpus / expected);

        // Several chosen, and the one session ran a request clearly faster than one of them: it is kept for lone requests.
        var lone = expected == several && choice.Timings[0].RunsPerSecond >= OnnxModelLoader.LoneMargin * choice.Timings[1].RunsPerSecond / several;
        model.HasLoneRequestSession.Should().Be(lone);
        choice.LoneRequestThreads.Should().Be(lone ? cpus : null);
    }

    [Fact]
    public void Auto_LoneRequestSessionOff_KeepsOnlyTheChosenSessions()
    {
        using var model = TestLoaders.Create(sessions: new SessionsOptions { LoneRequestSession = false }, cpus: 4).Load(Mlp(), 1);

        model.Choice!.Timings.Should().HaveCount(2, "the choice was timed");
        model.HasLoneRequestSession.Should().BeFalse();
        model.Choice.LoneRequestThreads.Should().BeNull();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Auto_SeveralChosenAndOneSessionFaster_KeepsALoneSessionThatDoesNotSpin(bool onlyVersion)
    {
        // The margins set so that the choice is several sessions and the one-session candidate is kept, whatever the timings.
        var loader = TestLoaders.Create(cpus: 2);
        loader.OneSessionMargin = double.MaxValue;
        loader.LoneSessionMargin = 0;

        using var model = loader.Load(Mlp(), 1, onlyVersion);

        model.InstanceCount.Should().Be(2);
        model.HasLoneRequestSession.Should().BeTrue();
        model.Choice!.LoneRequestThreads.Should().Be(2);
        model.LoneSessionSpins.Should().BeFalse(onlyVersion
            ? "the one-session candidate spun (the only version): a new session that does not spin replaced it"
            : "the one-session candidate did not spin and was kept as it was");
        var reference = JsonDocument.Parse(await File.ReadAllBytesAsync(Path.Combine(RepositoryPaths.References, "mlp", "1.json"))).RootElement;
        (await RunAsync(model, Floats(reference.GetProperty("inputs")[0]))).Should().Equal(
            Floats(reference.GetProperty("outputs")[0]), (a, b) => Math.Abs(a - b) < 1e-4f);
    }

    [Fact]
    public void Auto_DynamicBatching_KeepsNoLoneRequestSession()
    {
        using var model = TestLoaders.Create(cpus: 4).Load(Mlp("""{"max_batch_size": 8, "dynamic_batching": {}}"""), 1);

        model.Choice!.Timings.Should().HaveCount(2, "the choice was timed");
        model.HasLoneRequestSession.Should().BeFalse("the batch workers hold the instances");
        model.Choice.LoneRequestThreads.Should().BeNull();
    }

    [Fact]
    public async Task LoneRequestSession_AnswersAloneAndBesideTheInstances_AsPyTorchDid()
    {
        var reference = JsonDocument.Parse(await File.ReadAllBytesAsync(Path.Combine(RepositoryPaths.References, "mlp", "1.json"))).RootElement;
        var input = Floats(reference.GetProperty("inputs")[0]);
        var expected = Floats(reference.GetProperty("outputs")[0]);
        using var several = TestLoaders.Create(sessions: new SessionsOptions { InstanceCount = "2" }, cpus: 2).Load(Mlp(), 1);
        var single = TestLoaders.Create(sessions: new SessionsOptions { InstanceCount = "1" }, cpus: 2).Load(Mlp(), 1);
        several.KeepForLoneRequests(single);

        several.HasLoneRequestSession.Should().BeTrue();
        var alone = await RunAsync(several, input);
        var together = await Task.WhenAll(Enumerable.Range(0, 200).Select(_ => Task.Run(() => RunAsync(several, input))));

        alone.Should().Equal(expected, (a, b) => Math.Abs(a - b) < 1e-4f);
        together.Should().HaveCount(200).And.OnlyContain(result => result.SequenceEqual(alone), "every session runs the same weights");
        (await RunAsync(several, input)).Should().Equal(alone, "every lease came back");
        several.QueuedRequests.Should().Be(0);
    }

    private static float[] Floats(JsonElement tensor) => [.. tensor.GetProperty("data").EnumerateArray().Select(value => value.GetSingle())];

    private static async Task<float[]> RunAsync(OnnxModel model, float[] input)
    {
        using var request = new InferRequest();
        request.Inputs.Add(new InferInput("input", TensorDataType.Fp32, [input.Length / 4, 4], TensorBuffer.CopyOf(TensorBytes.Of(input))));
        request.Outputs.Add(new RequestedOutput("logits", Binary: false));
        using var result = await model.RunAsync(request, CancellationToken.None);
        return MemoryMarshal.Cast<byte, float>(result.Outputs.Single().FixedData).ToArray();
    }

    [Fact]
    public void Auto_OneCpu_OneSessionUntimed()
    {
        using var model = TestLoaders.Create(cpus: 1).Load(Mlp(), 1);

        model.InstanceCount.Should().Be(1);
        model.Choice.Should().BeEquivalentTo(new { Instances = 1, IntraOpThreads = 1, Source = "auto", Note = "one CPU" });
        model.Choice!.Timings.Should().BeEmpty();
    }

    [Fact]
    public void Auto_NoWarmupSample_KeepsOneSessionAndSaysWhy()
    {
        using var model = TestLoaders.Create(sessions: new SessionsOptions { DefaultWarmup = false }, cpus: 4).Load(Mlp(), 1);

        model.InstanceCount.Should().Be(1);
        model.Choice!.IntraOpThreads.Should().Be(4);
        model.Choice.Note.Should().Contain("not timed").And.Contain("model_warmup");
    }

    [Fact]
    public async Task Auto_SecondCandidateCannotBeCreated_ServesTheFirstAndSaysWhy()
    {
        // The first candidate is one session; every session after it fails to load, as a second copy of the weights
        // would where memory runs short.
        var providers = new FailingAfter(sessions: 1);
        using var model = TestLoaders.Create(cpus: 2, providers: providers).Load(Mlp(), 1);

        providers.Configured.Should().Be(2, "the second candidate's first session was attempted");
        model.InstanceCount.Should().Be(1);
        model.Choice!.IntraOpThreads.Should().Be(2);
        model.Choice.Timings.Should().BeEmpty();
        model.Choice.Note.Should().StartWith("not timed: 2 instances could not be created: ONNX Runtime cannot load m/1/model.onnx");
        using var request = new InferRequest();
        request.Inputs.Add(new InferInput("input", TensorDataType.Fp32, [1, 4], TensorBuffer.CopyOf(new byte[16])));
        request.Outputs.Add(new RequestedOutput("logits", Binary: false));
        using var result = await model.RunAsync(request, CancellationToken.None);
        result.Outputs.Should().ContainSingle().Which.Shape.Should().Equal(1, 3);
    }

    /// <summary>The CPU provider for the first <c>sessions</c> sessions; after them, options ONNX Runtime refuses to load an .onnx file with.</summary>
    private sealed class FailingAfter(int sessions) : IExecutionProviderFactory
    {
        private readonly CpuExecutionProviderFactory _cpu = new();

        public int Configured { get; private set; }

        public string Name => _cpu.Name;

        public string? FallbackReason => null;

        public string Configure(Microsoft.ML.OnnxRuntime.SessionOptions options, InstancePlacement placement)
        {
            if (++Configured > sessions)
            {
                options.AddSessionConfigEntry("session.load_model_format", "ORT");
            }

            return _cpu.Configure(options, placement);
        }
    }

    [Fact]
    public void Auto_TimesWithTheConfiguredWarmupSample()
    {
        var config = """{"model_warmup": [{"name": "ones", "batch_size": 2, "inputs": {"input": {"data_type": "TYPE_FP32", "dims": [4], "random_data": true}}}]}""";
        using var model = TestLoaders.Create(sessions: new SessionsOptions { DefaultWarmup = false }, cpus: 2).Load(Mlp(config), 1);

        model.Choice!.Timings.Should().HaveCount(2);
        model.Choice.Note.Should().BeNull();
    }

    [Fact]
    public void ServerCount_SplitsTheCpusAmongTheInstances_AtLeastOneThreadEach()
    {
        using var three = TestLoaders.Create(sessions: new SessionsOptions { InstanceCount = "3" }, cpus: 2).Load(Mlp(), 1);
        using var two = TestLoaders.Create(sessions: new SessionsOptions { InstanceCount = "2" }, cpus: 16).Load(Mlp(), 1);

        three.Choice.Should().BeEquivalentTo(new { Instances = 3, IntraOpThreads = 1, Source = "server" });
        three.Choice!.Timings.Should().BeEmpty();
        two.Choice.Should().BeEquivalentTo(new { Instances = 2, IntraOpThreads = 8, Source = "server" });
    }

    [Fact]
    public void ConfigInstanceGroup_WinsOverTheServer_AndConfiguredThreadsAreKept()
    {
        var loader = TestLoaders.Create(sessions: new SessionsOptions { InstanceCount = "4" }, cpus: 8);

        using var grouped = loader.Load(Mlp("""{"instance_group": [{"count": 2, "kind": "KIND_CPU"}]}"""), 1);
        grouped.Choice.Should().BeEquivalentTo(new { Instances = 2, IntraOpThreads = 4, Source = "config" });

        using var threads = loader.Load(Mlp("""{"instance_group": [{"count": 1}], "optimization": {"intra_op_threads": 3}}"""), 1);
        threads.Choice.Should().BeEquivalentTo(new { Instances = 1, IntraOpThreads = 3, Source = "config" });
    }

    [Theory]
    [InlineData(null, "1", true, true)]
    [InlineData(null, "1", false, false)]
    [InlineData(null, "2", true, false)]
    [InlineData(false, "1", true, false)]
    [InlineData(true, "2", false, true)]
    public void Spinning_OnlyForASingleSessionAloneInTheProcess_UnlessForced(bool? allow, string instances, bool onlyVersion, bool expected)
    {
        var loader = TestLoaders.Create(sessions: new SessionsOptions { InstanceCount = instances, AllowSpinning = allow });

        using var model = loader.Load(Mlp(), 1, onlyVersion);

        model.Choice!.Spinning.Should().Be(expected);
    }

    [Fact]
    public async Task Spinning_RegistryLetsTheOnlyVersionSpin_NotOneOfMany()
    {
        var alone = _temp.CreateDirectory("alone");
        CopyModel(alone, "mlp");
        var many = _temp.CreateDirectory("many");
        CopyModel(many, "mlp");
        CopyModel(many, "cnn");
        var sessions = new SessionsOptions { InstanceCount = "1" };

        await using (var harness = await RegistryHarness.StartAsync(alone, sessions))
        {
            harness.Registry.GetVersion("mlp", 1).Instances!.Spinning.Should().BeTrue();
        }

        await using (var harness = await RegistryHarness.StartAsync(many, sessions))
        {
            harness.Registry.GetVersion("mlp", 1).Instances!.Spinning.Should().BeFalse("cnn was already LOADING when mlp loaded");
            harness.Registry.GetVersion("cnn", 1).Instances!.Spinning.Should().BeFalse();
        }
    }

    private static void CopyModel(string repository, string name)
    {
        var source = Path.Combine(RepositoryPaths.Models, name);
        foreach (var file in Directory.GetFiles(source, "*", SearchOption.AllDirectories).Where(f => !f.Contains("reference", StringComparison.Ordinal)))
        {
            var target = Path.Combine(repository, name, Path.GetRelativePath(source, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }

    [Fact]
    public void Choice_ReadsAsOneLogField()
    {
        var choice = new InstanceChoice(2, 1, false, "auto", [new InstanceTiming(1, 2, 412.26), new InstanceTiming(2, 1, 655)], null);

        choice.ToString().Should().Be("2 x 1 threads (auto: 1x2 412.3/s, 2x1 655/s)");
        new InstanceChoice(1, 4, true, "auto", [], "one CPU").ToString().Should().Be("1 x 4 threads spinning (auto: one CPU)");
        new InstanceChoice(3, 1, false, "server", [], null).ToString().Should().Be("3 x 1 threads (server)");
        (choice with { LoneRequestThreads = 2 }).ToString().Should().Be("2 x 1 threads + 1 x 2 threads for lone requests (auto: 1x2 412.3/s, 2x1 655/s)");
    }

    [Theory]
    [InlineData("auto", true)]
    [InlineData("1", true)]
    [InlineData("64", true)]
    [InlineData("0", false)]
    [InlineData("65", false)]
    [InlineData("two", false)]
    [InlineData("", false)]
    public void InstanceCountOption_IsAutoOrOneTo64(string value, bool valid)
    {
        var options = new SessionsOptions { InstanceCount = value };
        var results = new List<ValidationResult>();

        Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true).Should().Be(valid);
        if (valid)
        {
            options.FixedInstanceCount.Should().Be(value == "auto" ? null : int.Parse(value, System.Globalization.CultureInfo.InvariantCulture));
        }
        else
        {
            results.Should().ContainSingle().Which.ErrorMessage.Should().Contain("MaaS:Sessions:InstanceCount");
        }
    }
}
