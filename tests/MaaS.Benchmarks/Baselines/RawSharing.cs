namespace MaaS.Benchmarks.Baselines;

/// <summary>How <see cref="RawInferenceLoop"/>'s callers share ONNX Runtime sessions.</summary>
internal enum RawSharing
{
    /// <summary>One session with default options, run by every caller at once: the best plain ONNX Runtime code.</summary>
    Plain,

    /// <summary>The server's scheme: its session options, N instances, each leased by one caller at a time.</summary>
    Leased,
}
