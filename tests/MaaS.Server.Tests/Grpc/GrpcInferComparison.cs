using System.Net;
using Inference;
using MaaS.Server.Tests.Infrastructure;

namespace MaaS.Server.Tests.Grpc;

/// <summary>Sends a reference case over HTTP (binary, as tritonclient.http) and checks a gRPC answer holds the same outputs, byte for byte.</summary>
public static class GrpcInferComparison
{
    public static async Task ShouldMatchHttpAsync(GrpcApplication app, ModelInferResponse grpc, ReferenceCase reference, string model, int? version)
    {
        using var client = app.CreateClient();
        using var request = V2Requests.Binary(V2Requests.InferUri(model, version), reference);
        using var response = await client.SendAsync(request);
        response.StatusCode.Should().Be(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        var http = await InferReply.ReadAsync(response);

        grpc.ModelName.Should().Be(model);
        grpc.ModelVersion.Should().Be(http.Json.GetProperty("model_version").GetString());
        grpc.Outputs.Should().HaveCount(http.Outputs.Count());
        grpc.RawOutputContents.Should().HaveCount(grpc.Outputs.Count, "every output comes back in raw_output_contents");
        for (var i = 0; i < grpc.Outputs.Count; i++)
        {
            var output = grpc.Outputs[i];
            var expected = http.Output(output.Name);
            output.Datatype.Should().Be(expected.GetProperty("datatype").GetString());
            output.Shape.Should().Equal(expected.GetProperty("shape").EnumerateArray().Select(dim => dim.GetInt64()));
            grpc.RawOutputContents[i].ToByteArray().Should().Equal(http.Binary[output.Name], "output '{0}' must be what HTTP returns", output.Name);
        }
    }
}
