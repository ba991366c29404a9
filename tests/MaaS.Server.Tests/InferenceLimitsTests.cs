using System.Globalization;
using MaaS.Core.Sessions;
using MaaS.Server.Hosting;
using Microsoft.Extensions.Options;

namespace MaaS.Server.Tests;

public sealed class InferenceLimitsTests
{
    private const long GiB = 1024L * 1024 * 1024;
    private const long MiB = 1024L * 1024;

    [Theory]
    [InlineData(8, 16 * GiB, 64 * MiB, 64, 256)]      // 64 bodies of 2 x 64 MiB fit in half of 16 GiB; 4 times as many queue
    [InlineData(2, 8 * GiB, 64 * MiB, 32, 128)]
    [InlineData(2, 1 * GiB, 64 * MiB, 4, 16)]         // a small container: 4 bodies fit
    [InlineData(2, 1 * GiB, 1 * MiB, 128, 256)]       // a smaller body limit: 64 per CPU run, the queue within a quarter of 1 GiB
    [InlineData(64, 512 * GiB, 64 * MiB, 2048, 8192)]
    [InlineData(4, 0, 64 * MiB, 1, 0)]                // memory unknown or tiny: one at a time, never unlimited
    public void Defaults_FromCpusMemoryAndBodyLimit_AdmitNoMoreBodiesThanHalfTheMemoryHolds(
        int processors, long memory, long body, int expectedInFlight, int expectedQueued)
    {
        var (inFlight, queued) = InferenceLimits.Defaults(processors, memory, body);

        inFlight.Should().Be(expectedInFlight);
        queued.Should().Be(expectedQueued);
        if (memory / 2 >= 2 * body)
        {
            (inFlight * 2 * body).Should().BeLessThanOrEqualTo(memory / 2);
            (queued * InferenceLimits.QueuedRequestBytes).Should().BeLessThanOrEqualTo(memory / 4);
        }
    }

    [Fact]
    public void Constructor_LimitsSet_TakesThemOverTheDefaults()
    {
        using var limits = new InferenceLimits(new LimitsOptions { MaxInFlight = 3, MaxQueued = 0 }, processors: 8, availableMemoryBytes: 16 * GiB);

        limits.MaxInFlight.Should().Be(3);
        limits.MaxQueued.Should().Be(0);
        limits.InFlight.Should().Be(0);
        limits.Queued.Should().Be(0);
    }

    [Theory]
    [InlineData(nameof(LimitsOptions.MaxInFlight), 0)]
    [InlineData(nameof(LimitsOptions.MaxQueued), -1)]
    [InlineData(nameof(LimitsOptions.MaxConnections), 0)]
    [InlineData(nameof(LimitsOptions.RequestHeadersTimeoutSeconds), 0)]
    [InlineData(nameof(LimitsOptions.RetryAfterSeconds), 0)]
    public void Validation_LimitOutOfRange_FailsNamingIt(string property, int value)
    {
        var options = new LimitsOptions();
        var setting = typeof(LimitsOptions).GetProperty(property)!;
        setting.SetValue(options, Convert.ChangeType(value, Nullable.GetUnderlyingType(setting.PropertyType) ?? setting.PropertyType, CultureInfo.InvariantCulture));

        // The validator ValidateDataAnnotations registers, which ValidateOnStart runs before the server listens.
        var result = new DataAnnotationValidateOptions<LimitsOptions>(null).Validate(null, options);

        result.Failed.Should().BeTrue();
        result.FailureMessage.Should().Contain(property);
    }

    [Fact]
    public void Validation_DefaultsAndUnsetLimits_Pass() =>
        new DataAnnotationValidateOptions<LimitsOptions>(null).Validate(null, new LimitsOptions()).Succeeded.Should().BeTrue();

    [Fact]
    public void Validation_SessionWaitTimeoutOfZero_Fails() =>
        new DataAnnotationValidateOptions<SessionsOptions>(null).Validate(null, new SessionsOptions { SessionWaitTimeoutSeconds = 0 })
            .FailureMessage.Should().Contain(nameof(SessionsOptions.SessionWaitTimeoutSeconds));
}
