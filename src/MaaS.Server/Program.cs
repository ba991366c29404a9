using MaaS.Core;
using MaaS.Server.Endpoints.Grpc;
using MaaS.Server.Endpoints.Health;
using MaaS.Server.Endpoints.Management;
using MaaS.Server.Endpoints.OpenAI;
using MaaS.Server.Endpoints.V1;
using MaaS.Server.Endpoints.V2;
using MaaS.Server.Hosting;

// appsettings.json sits beside the binary; relative paths in settings (the model repository) are the working directory's.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.AddMaaSHosting(args);             // --model-repository, port 8000, Kestrel and inference limits
builder.AddMaaSLogging();                 // Serilog console (text or JSON), request logging
builder.AddMaaSTelemetry();               // OpenTelemetry traces when an OTLP endpoint is set
builder.Services.AddMaaSCore();           // repository, registry, sessions
builder.Services.AddMaaSEndpoints();      // JSON context, Swagger
builder.AddMaaSAuth();                    // API keys and roles
builder.AddMaaSGrpc();                    // Triton's gRPC service on MaaS:Grpc:Port (8001), health, reflection
builder.Services.AddMaaSResponseCompression(); // gzip/deflate when the client asks

var app = builder.Build();
app.LogStartupSummary();
app.UseMaaSForwardedHeaders();        // MaaS:Auth:TrustedProxies: the real client behind them
app.UseMaaSRequestLogging();
app.UseMaaSHttpMetrics();
app.UseResponseCompression();
app.UseMaaSErrorHandling();
app.UseMaaSSwagger();
app.UseMaaSAuth();
app.UseMaaSInferenceLimits();             // MaxInFlight / MaxQueued on the routes that run a model
app.MapHealth();
app.MapMetrics();
app.MapServerMetadata();
app.MapModelMetadata();
app.MapInferenceV2();
app.MapRepositoryIndex();
app.MapStatistics();
app.MapRepositoryControl();
app.MapModelManagement();
app.MapPredictV1();
app.MapEmbeddings();
app.MapMaaSGrpc();
try
{
    app.Run();
    return 0;
}
catch (Exception ex) when (ex is Microsoft.Extensions.Options.OptionsValidationException or InvalidOperationException)
{
    // A setting that cannot work (a bad value, strict CUDA without CUDA): the host has logged why; stop with a failure code.
    return 1;
}
