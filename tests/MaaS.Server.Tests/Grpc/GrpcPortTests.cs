using Grpc.Core;
using Inference;
using MaaS.Server.Tests.Infrastructure;
using Microsoft.Extensions.Options;

namespace MaaS.Server.Tests.Grpc;

/// <summary>MaaS:Grpc:Port: validated at startup, and 0 leaves the gRPC service out entirely.</summary>
public sealed class GrpcPortTests
{
    [Theory]
    [InlineData("-1")]
    [InlineData("65536")]
    public void Start_PortOutOfRange_FailsNamingThePort(string port)
    {
        using var repository = new TempRepository();
        using var app = new ConfiguredGrpcApplication(repository.Path, new Dictionary<string, string?> { ["MaaS:Grpc:Port"] = port });

        var start = () => app.Server;

        start.Should().Throw<OptionsValidationException>().WithMessage("*Port*");
    }

    [Fact]
    public async Task PortZero_GrpcIsOff_CallsAreUnimplemented()
    {
        using var repository = new TempRepository();
        using var app = new ConfiguredGrpcApplication(repository.Path, new Dictionary<string, string?> { ["MaaS:Grpc:Port"] = "0" });

        var call = () => app.CreateGrpcClient().ServerLiveAsync(new ServerLiveRequest()).ResponseAsync;

        (await call.Should().ThrowAsync<RpcException>()).Which.StatusCode.Should().Be(StatusCode.Unimplemented);
    }
}
