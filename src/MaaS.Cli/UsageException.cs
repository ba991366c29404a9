namespace MaaS.Cli;

/// <summary>A mistake in how the tool was called (exit code 2): a bad option value, a missing or malformed input file.</summary>
internal sealed class UsageException(string message) : Exception(message);
