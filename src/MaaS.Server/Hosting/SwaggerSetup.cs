using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace MaaS.Server.Hosting;

internal static class SwaggerSetup
{
    public static void Configure(SwaggerGenOptions options)
    {
        options.SwaggerDoc("v1", new OpenApiInfo
        {
            Title = "MaaS",
            Version = "v1",
            Description = "Model-as-a-Service: ONNX models over the Open Inference Protocol (KServe V2, as Triton speaks it) and KServe V1.",
        });
        options.OperationFilter<SwaggerExamples>();
    }
}
