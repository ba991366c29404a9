using System.Collections.Immutable;
using MaaS.Core.Registry;
using MaaS.Core.Repository;
using MaaS.Core.Sessions;
using MaaS.Core.Tests.Infrastructure;
using Microsoft.Extensions.Options;
using Microsoft.ML.OnnxRuntime;

namespace MaaS.Core.Tests;

public sealed class ModelVersionTests
{
    private static readonly string MlpFile = Path.Combine(RepositoryPaths.Models, "mlp", "1", "model.onnx");

    private static readonly Inference.ModelSignature MlpSignature = LoadMlpSignature();

    private static Inference.ModelSignature LoadMlpSignature()
    {
        var loader = TestLoaders.Create();
        using var model = loader.Load(ModelRepositoryScanner.ReadModel("mlp", Path.Combine(RepositoryPaths.Models, "mlp")), 1);
        return model.Signature;
    }

    /// <summary>A real session over the mlp that records when it is disposed.</summary>
    private sealed class TrackedSession() : InferenceSession(MlpFile)
    {
        public int DisposeCount { get; private set; }

        protected override void Dispose(bool disposing)
        {
            DisposeCount++;
            base.Dispose(disposing);
        }
    }

    private static (ModelVersion Version, TrackedSession Session) ReadyVersion(long number = 1)
    {
        var session = new TrackedSession();
        return (ModelVersion.Ready(number, new OnnxModel(session, MlpSignature, "cpu")), session);
    }

    private static RegisteredModel Registered(params ModelVersion[] versions) =>
        new(
            new ModelDirectory("m", "/repo/m", null, null, [.. versions.Select(version => version.Number)]),
            versions.ToImmutableSortedDictionary(version => version.Number, version => version));

    private static ModelRegistry NewRegistry() => new(Options.Create(new MaaSOptions()));

    [Fact]
    public void Retire_NoLeases_DisposesTheModelOnce()
    {
        var (version, session) = ReadyVersion();

        version.Retire();

        session.DisposeCount.Should().Be(1);
    }

    [Fact]
    public void Retire_WithLeases_DisposesOnlyAfterTheLastRelease()
    {
        var (version, session) = ReadyVersion();
        version.TryAcquire().Should().BeTrue();
        version.TryAcquire().Should().BeTrue();

        version.Retire();
        session.DisposeCount.Should().Be(0);
        version.Release();
        session.DisposeCount.Should().Be(0);
        version.Release();

        session.DisposeCount.Should().Be(1);
    }

    [Fact]
    public void TryAcquire_AfterRetirementWithLeaseOutstanding_StillSucceeds()
    {
        var (version, session) = ReadyVersion();
        version.TryAcquire().Should().BeTrue();
        version.Retire();

        version.TryAcquire().Should().BeTrue("a request already holding the version keeps it alive");
        version.Release();
        version.Release();

        session.DisposeCount.Should().Be(1);
    }

    [Fact]
    public void TryAcquire_AfterRetirementWithNoLeases_Fails()
    {
        var (version, session) = ReadyVersion();
        version.Retire();

        version.TryAcquire().Should().BeFalse();
        session.DisposeCount.Should().Be(1);
    }

    [Fact]
    public void TryAcquire_AfterLastLeaseOfRetiredVersionReleased_Fails()
    {
        var (version, _) = ReadyVersion();
        version.TryAcquire().Should().BeTrue();
        version.Retire();
        version.Release();

        version.TryAcquire().Should().BeFalse();
    }

    [Fact]
    public void TryAcquire_NotReadyVersions_Fail()
    {
        ModelVersion.Loading(1).TryAcquire().Should().BeFalse();
        ModelVersion.Unavailable(2, "broken").TryAcquire().Should().BeFalse();
    }

    [Fact]
    public void Unavailable_KeepsReasonAndState()
    {
        var version = ModelVersion.Unavailable(3, "ONNX Runtime cannot load model.onnx");

        version.Number.Should().Be(3);
        version.State.Should().Be(ModelVersionState.Unavailable);
        version.Reason.Should().Be("ONNX Runtime cannot load model.onnx");
    }

    [Fact]
    public void ConcurrentLeases_DisposeExactlyOnceAfterAllEnd()
    {
        var (version, session) = ReadyVersion();
        var acquired = 0;
        Parallel.For(0, 2000, _ =>
        {
            if (version.TryAcquire())
            {
                Interlocked.Increment(ref acquired);
                version.Release();
            }
        });
        version.Retire();

        acquired.Should().Be(2000);
        session.DisposeCount.Should().Be(1);
    }

    [Fact]
    public void RegistrySet_ReplacingAModel_RetiresOldVersionAfterItsLastLease()
    {
        using var registry = NewRegistry();
        var (v1, session1) = ReadyVersion(1);
        var (v2, session2) = ReadyVersion(2);
        Set(registry, Registered(v1));
        var lease = registry.Acquire("m", null);
        lease.VersionNumber.Should().Be(1);

        Set(registry, Registered(v2));

        session1.DisposeCount.Should().Be(0, "a request still runs on version 1");
        lease.Model.Signature.Should().BeSameAs(MlpSignature);
        lease.Dispose();
        session1.DisposeCount.Should().Be(1);
        session2.DisposeCount.Should().Be(0);
        registry.Acquire("m", null).VersionNumber.Should().Be(2);
    }

    [Fact]
    public void RegistrySet_VersionKeptInTheNewEntry_IsNotRetired()
    {
        using var registry = NewRegistry();
        var (v1, session1) = ReadyVersion(1);
        var (v2, _) = ReadyVersion(2);
        Set(registry, Registered(v1));

        Set(registry, Registered(v1, v2));

        session1.DisposeCount.Should().Be(0);
        using var lease = registry.Acquire("m", 1);
        lease.VersionNumber.Should().Be(1);
    }

    [Fact]
    public void VersionLease_DisposedTwice_ReleasesOnce()
    {
        using var registry = NewRegistry();
        var (v1, session1) = ReadyVersion(1);
        Set(registry, Registered(v1));
        var first = registry.Acquire("m", 1);
        var second = registry.Acquire("m", 1);
        Set(registry, Registered());

        first.Dispose();
        first.Dispose();

        session1.DisposeCount.Should().Be(0, "the second lease still holds the version");
        second.Dispose();
        session1.DisposeCount.Should().Be(1);
    }

    [Fact]
    public void Acquire_RetiredVersion_ThrowsVersionNotFound()
    {
        using var registry = NewRegistry();
        var (v1, _) = ReadyVersion(1);
        var (v2, _) = ReadyVersion(2);
        Set(registry, Registered(v1));
        Set(registry, Registered(v2));

        var act = () => registry.Acquire("m", 1);

        act.Should().Throw<ServingException>().Which.Kind.Should().Be(FailureKind.VersionNotFound);
    }

    [Fact]
    public void Acquire_VersionNotReady_ThrowsNotReadyWithReason()
    {
        using var registry = NewRegistry();
        Set(registry, Registered(ModelVersion.Unavailable(1, "bad graph")));

        var act = () => registry.Acquire("m", 1);

        var thrown = act.Should().Throw<ServingException>().Which;
        thrown.Kind.Should().Be(FailureKind.NotReady);
        thrown.Message.Should().Contain("bad graph");
    }

    [Fact]
    public void Acquire_UnknownModel_ThrowsModelNotFound()
    {
        using var registry = NewRegistry();

        var act = () => registry.Acquire("nope", null);

        act.Should().Throw<ServingException>().Which.Kind.Should().Be(FailureKind.ModelNotFound);
    }

    [Fact]
    public void RegistryDispose_RetiresEveryVersion()
    {
        var (v1, session1) = ReadyVersion(1);
        var (v2, session2) = ReadyVersion(2);
        var registry = NewRegistry();
        Set(registry, Registered(v1, v2));

        registry.Dispose();

        session1.DisposeCount.Should().Be(1);
        session2.DisposeCount.Should().Be(1);
    }

    private static void Set(ModelRegistry registry, RegisteredModel model)
    {
        registry.TryGetModel(model.Name, out var current);
        registry.TryPublish(current, model).Should().BeTrue();
    }
}
