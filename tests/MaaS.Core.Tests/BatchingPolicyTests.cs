using System.Globalization;
using System.Text;
using MaaS.Core.Batching;
using MaaS.Core.Repository;

namespace MaaS.Core.Tests;

/// <summary>Reading <c>dynamic_batching</c> in Triton's field names and JSON forms; errors name the key.</summary>
public sealed class BatchingPolicyTests
{
    [Fact]
    public void Absent_MeansNoBatching()
    {
        BatchingPolicy.From(new ModelConfig(), 8).Should().BeNull();
        BatchingPolicy.From(null, 8).Should().BeNull();
    }

    [Fact]
    public void Empty_BatchesWithTritonsDefaults()
    {
        var policy = Read("{}", 8);

        policy.MaxBatchSize.Should().Be(8);
        policy.PreferredBatchSizes.Should().BeEmpty();
        policy.MaxQueueDelay.Should().Be(TimeSpan.Zero);
        policy.PriorityLevels.Should().Be(1);
        policy.DefaultPriorityLevel.Should().Be(1);
        policy.PolicyOf(1).Should().Be(new QueuePolicy(BatchingPolicy.DefaultMaxQueueSize, TimeSpan.Zero, TimeoutAction.Reject, false));
    }

    [Fact]
    public void QueueWithoutMaxQueueSize_IsBoundedByTheDefault_AndZeroStillMeansUnbounded()
    {
        var policy = Read(
            """
            {"priority_levels": 3, "default_priority_level": 1,
             "default_queue_policy": {"default_timeout_microseconds": 100},
             "priority_queue_policy": {"2": {"max_queue_size": 0}, "3": {"max_queue_size": "7"}}}
            """,
            8);

        BatchingPolicy.DefaultMaxQueueSize.Should().Be(1024);
        policy.PolicyOf(1).MaxQueueSize.Should().Be(BatchingPolicy.DefaultMaxQueueSize);
        policy.PolicyOf(1).DefaultTimeout.Should().Be(TimeSpan.FromMicroseconds(100));
        policy.PolicyOf(2).Should().Be(QueuePolicy.Unbounded);
        policy.PolicyOf(3).MaxQueueSize.Should().Be(7);
    }

    [Fact]
    public void PreferredSizeAboveAnInferredMaxBatchSize_IsRefusedAtLoad()
    {
        // Without max_batch_size in the config the ONNX file decides it, so only the load can compare.
        var config = ModelConfigReader.Parse("""{"dynamic_batching": {"preferred_batch_size": [2, 16]}}"""u8);

        var act = () => BatchingPolicy.From(config, 8);

        act.Should().Throw<ModelConfigException>().Which.Message.Should().Contain("dynamic_batching.preferred_batch_size[1] must be an integer from 1 to 8");
    }

    [Fact]
    public void EveryField_AsTritonWritesIt_WithUint64AsStrings()
    {
        var policy = Read(
            """
            {"preferred_batch_size": [8, 4, 4], "max_queue_delay_microseconds": "100", "preserve_ordering": true,
             "priority_levels": 2, "default_priority_level": 2,
             "default_queue_policy": {"timeout_action": "DELAY", "default_timeout_microseconds": 5000, "allow_timeout_override": true, "max_queue_size": 16},
             "priority_queue_policy": {"1": {"max_queue_size": 4, "timeout_action": 0}}}
            """,
            8);

        policy.PreferredBatchSizes.Should().Equal(4, 8);
        policy.MaxQueueDelay.Should().Be(TimeSpan.FromMicroseconds(100));
        policy.PriorityLevels.Should().Be(2);
        policy.DefaultPriorityLevel.Should().Be(2);
        policy.PolicyOf(1).Should().Be(new QueuePolicy(4, TimeSpan.Zero, TimeoutAction.Reject, false));
        policy.PolicyOf(2).Should().Be(new QueuePolicy(16, TimeSpan.FromMilliseconds(5), TimeoutAction.Delay, true));
    }

    [Theory]
    [InlineData("""{"max_batch_size": 4}""", "dynamic_batching.max_batch_size")]
    [InlineData("""{"preferred_batch_size": [9]}""", "dynamic_batching.preferred_batch_size[0] must be an integer from 1 to 8")]
    [InlineData("""{"preferred_batch_size": 4}""", "dynamic_batching.preferred_batch_size must be an array")]
    [InlineData("""{"max_queue_delay_microseconds": -1}""", "dynamic_batching.max_queue_delay_microseconds")]
    [InlineData("""{"priority_levels": 3}""", "dynamic_batching.default_priority_level must be from 1 to 3")]
    [InlineData("""{"priority_levels": 2, "default_priority_level": 3}""", "dynamic_batching.default_priority_level must be an integer from 0 to 2")]
    [InlineData("""{"default_queue_policy": {"timeout_action": "DROP"}}""", "timeout_action must be \"REJECT\" or \"DELAY\"")]
    [InlineData("""{"default_queue_policy": {"max_queue": 1}}""", "dynamic_batching.default_queue_policy.max_queue")]
    [InlineData("""{"priority_queue_policy": {"2": {}}}""", "priority_queue_policy.2: the key must be a priority level from 1 to 1")]
    [InlineData("""[]""", "dynamic_batching must be a JSON object")]
    [InlineData("""{"preserve_ordering": "yes"}""", "dynamic_batching.preserve_ordering must be true or false")]
    [InlineData("""{"max_queue_delay_microseconds": "soon"}""", "dynamic_batching.max_queue_delay_microseconds must be a 64-bit integer")]
    [InlineData("""{"max_queue_delay_microseconds": 3600000001}""", "dynamic_batching.max_queue_delay_microseconds must be an integer from 0 to 3600000000")]
    [InlineData("""{"priority_levels": 1001}""", "dynamic_batching.priority_levels must be an integer from 0 to 1000")]
    [InlineData("""{"default_queue_policy": {"max_queue_size": -1}}""", "dynamic_batching.default_queue_policy.max_queue_size")]
    [InlineData("""{"default_queue_policy": {"default_timeout_microseconds": -5}}""", "dynamic_batching.default_queue_policy.default_timeout_microseconds")]
    [InlineData("""{"default_queue_policy": {"timeout_action": 2}}""", "timeout_action must be \"REJECT\" or \"DELAY\"")]
    [InlineData("""{"priority_levels": 2, "default_priority_level": 1, "priority_queue_policy": {"1": {"allow_timeout_override": 1}}}""", "dynamic_batching.priority_queue_policy.1.allow_timeout_override must be true or false")]
    [InlineData("""{"priority_levels": 2, "default_priority_level": 1, "priority_queue_policy": {"one": {}}}""", "priority_queue_policy.one: the key must be a priority level")]
    [InlineData("""{"priority_levels": 2, "default_priority_level": 1, "priority_queue_policy": {"2": {"colour": 1}}}""", "unknown key 'dynamic_batching.priority_queue_policy.2.colour'")]
    public void Invalid_IsRefusedWhenTheConfigIsReadNamingTheKey(string json, string message)
    {
        var act = () => Parse(json, 8);

        act.Should().Throw<ModelConfigException>().Which.Message.Should().Contain(message).And.StartWith("config.json");
    }

    [Theory]
    [InlineData(0, 0, false, 0)]
    [InlineData(10_000, 2_000, true, 2_000)]
    [InlineData(10_000, 20_000, true, 10_000)]
    [InlineData(10_000, 2_000, false, 10_000)]
    [InlineData(0, 2_000, true, 0)]
    public void RequestTimeout_OnlyShortensASetDefault(long defaultMicroseconds, long requestMicroseconds, bool allowOverride, long expectedMicroseconds)
    {
        var policy = new QueuePolicy(0, TimeSpan.FromMicroseconds(defaultMicroseconds), TimeoutAction.Reject, allowOverride);

        policy.TimeoutFor(requestMicroseconds).Should().Be(TimeSpan.FromMicroseconds(expectedMicroseconds));
    }

    /// <summary>The config as the repository reads it: every check runs here, before any version loads.</summary>
    private static ModelConfig Parse(string dynamicBatching, int maxBatchSize) =>
        ModelConfigReader.Parse(Encoding.UTF8.GetBytes(
            $$"""{"max_batch_size": {{maxBatchSize.ToString(CultureInfo.InvariantCulture)}}, "dynamic_batching": {{dynamicBatching}}}"""));

    private static BatchingPolicy Read(string json, int maxBatchSize) => BatchingPolicy.From(Parse(json, maxBatchSize), maxBatchSize)!;
}
