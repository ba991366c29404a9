namespace MaaS.Server.Tests.Infrastructure;

/// <summary>The server on a repository a test builds (a temp directory), with extra settings. Dispose it after the test.</summary>
public sealed class RepositoryApplication(string repository, IDictionary<string, string?>? settings = null)
    : MaaSApplication(repository, settings);
