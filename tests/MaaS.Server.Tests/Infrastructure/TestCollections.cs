namespace MaaS.Server.Tests.Infrastructure;

/// <summary>Test classes in this collection share one server on the bundled models.</summary>
[CollectionDefinition(Name)]
public sealed class BundledModelsGroup : ICollectionFixture<MaaSApplication>
{
    public const string Name = "bundled models";
}

/// <summary>Test classes in this collection share one server on the zoo repository.</summary>
[CollectionDefinition(Name)]
public sealed class ZooGroup : ICollectionFixture<ZooApplication>
{
    public const string Name = "zoo models";
}
