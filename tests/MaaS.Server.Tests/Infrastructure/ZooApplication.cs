namespace MaaS.Server.Tests.Infrastructure;

/// <summary>The server on tests/fixtures/zoo: models of shapes and datatypes the bundled ones do not have.</summary>
public sealed class ZooApplication() : MaaSApplication(RepositoryPaths.Zoo);
