using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace MaaS.Server.Tests.Infrastructure;

/// <summary>The server on a test's repository with some of its services replaced (a failing store, a fake remote address). Dispose it after the test.</summary>
public sealed class ConfiguredApplication(string repository, Action<IServiceCollection> configureServices, IDictionary<string, string?>? settings = null)
    : MaaSApplication(repository, settings)
{
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureTestServices(configureServices);
    }
}
