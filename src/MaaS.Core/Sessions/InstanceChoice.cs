using System.Text.Json.Serialization;

namespace MaaS.Core.Sessions;

/// <summary>How a loaded version came to run its instances, shown in the registry view, the load log line and /metrics.</summary>
/// <param name="Instances">Sessions the version runs.</param>
/// <param name="IntraOpThreads">Threads each session's Run may use inside an operator.</param>
/// <param name="Spinning">Whether the sessions' pool threads spin while waiting for work.</param>
/// <param name="Source"><c>config</c> (instance_group), <c>server</c> (MaaS:Sessions:InstanceCount) or <c>auto</c> (timed at load).</param>
/// <param name="Timings">With <c>auto</c>, each candidate's measured throughput; empty otherwise, or when it could not be timed.</param>
/// <param name="Note">Why <c>auto</c> did not time (no usable warmup sample, CUDA, several sessions could not be created), else null.</param>
public sealed record InstanceChoice(
    [property: JsonPropertyName("instances")] int Instances,
    [property: JsonPropertyName("intra_op_threads")] int IntraOpThreads,
    [property: JsonPropertyName("spinning")] bool Spinning,
    [property: JsonPropertyName("source")] string Source,
    [property: JsonPropertyName("timings")] IReadOnlyList<InstanceTiming> Timings,
    [property: JsonPropertyName("note"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Note)
{
    /// <summary>
    /// With <c>auto</c>, the threads of the extra session that runs a request finding every instance idle (one session
    /// using every CPU); null when the version has none.
    /// </summary>
    [JsonPropertyName("lone_request_threads")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? LoneRequestThreads { get; init; }

    public const string FromConfig = "config";
    public const string FromServer = "server";
    public const string Auto = "auto";

    /// <summary>For the load log line: <c>2 x 1 threads (auto: 1x2 412/s, 2x1 655/s)</c>; "spinning" after the threads when they spin.</summary>
    public override string ToString()
    {
        var detail = Timings.Count > 0
            ? string.Join(", ", Timings.Select(timing => timing.ToString()))
            : Note;
        var lone = LoneRequestThreads is { } threads ? $" + 1 x {threads} threads for lone requests" : "";
        return $"{Instances} x {IntraOpThreads} threads{(Spinning ? " spinning" : "")}{lone} ({Source}{(detail is null ? "" : ": " + detail)})";
    }
}

/// <summary>One candidate of the timed choice: <see cref="Instances"/> sessions of <see cref="IntraOpThreads"/> threads, all busy at once.</summary>
public sealed record InstanceTiming(
    [property: JsonPropertyName("instances")] int Instances,
    [property: JsonPropertyName("intra_op_threads")] int IntraOpThreads,
    [property: JsonPropertyName("runs_per_second")] double RunsPerSecond)
{
    public override string ToString() =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{Instances}x{IntraOpThreads} {RunsPerSecond:0.#}/s");
}
