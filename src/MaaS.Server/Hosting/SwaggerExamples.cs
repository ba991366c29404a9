using System.Text.Json.Nodes;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace MaaS.Server.Hosting;

/// <summary>Fills "Try it out" with requests that work against the bundled models (mlp: 4 features -> 3 classes).</summary>
internal sealed class SwaggerExamples : IOperationFilter
{
    private const string InferExample = """
        {
          "id": "example-1",
          "inputs": [
            { "name": "input", "datatype": "FP32", "shape": [2, 4],
              "data": [[5.1, 3.5, 1.4, 0.2], [6.7, 3.1, 4.4, 1.4]] }
          ],
          "outputs": [ { "name": "logits" } ]
        }
        """;

    private const string OptimizeExample = """{ "method": "graph", "max_abs_diff": 0.0001, "label": "candidate" }""";

    private const string PredictExample = """{ "instances": [[5.1, 3.5, 1.4, 0.2], [6.7, 3.1, 4.4, 1.4]] }""";

    // mlp has 4 features: exact Shapley values (2^4 = 16 forward passes per row) of class 2's logit.
    private const string ExplainExample = """
        {
          "id": "explain-1",
          "inputs": [
            { "name": "input", "datatype": "FP32", "shape": [1, 4], "data": [[6.7, 3.1, 4.4, 1.4]] }
          ],
          "parameters": { "method": "shapley", "target": { "output": "logits", "index": 2 }, "baseline": "zeros" }
        }
        """;

    private const string ExplainV1Example = """
        { "instances": [[6.7, 3.1, 4.4, 1.4]], "parameters": { "method": "occlusion", "target": { "index": 2 } } }
        """;

    private static readonly (string Name, string Description, string? Pattern)[] RouteBoundParameters =
    [
        ("modelVersion", "Model version, a positive integer.", "^[0-9]+$"),
        ("label", "A version label, e.g. stable.", null),
    ];

    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        var path = context.ApiDescription.RelativePath ?? "";
        foreach (var (name, description, pattern) in RouteBoundParameters)
        {
            // Bound from the route by ModelVersionRoute.BindAsync, so ApiExplorer does not list them.
            if (path.Contains("{" + name, StringComparison.Ordinal) && operation.Parameters?.Any(p => p.Name == name) != true)
            {
                operation.Parameters ??= [];
                operation.Parameters.Add(new OpenApiParameter
                {
                    Name = name,
                    In = ParameterLocation.Path,
                    Required = true,
                    Description = description,
                    Schema = new OpenApiSchema { Type = JsonSchemaType.String, Pattern = pattern },
                });
            }
        }

        foreach (var parameter in operation.Parameters ?? [])
        {
            if (parameter is OpenApiParameter concrete)
            {
                concrete.Example = parameter.Name switch
                {
                    "modelName" => "mlp",
                    "modelVersion" => "1",
                    "label" => "stable",
                    _ => concrete.Example,
                };
            }
        }

        var documentation = context.ApiDescription.ActionDescriptor.EndpointMetadata.OfType<RequestBodyDocumentation>().FirstOrDefault();
        if (documentation is null)
        {
            return;
        }

        operation.RequestBody = new OpenApiRequestBody
        {
            Required = true,
            Description = "Read raw: no Content-Type is needed.",
            Content = new Dictionary<string, IOpenApiMediaType>
            {
                ["application/json"] = new OpenApiMediaType
                {
                    Schema = context.SchemaGenerator.GenerateSchema(documentation.BodyType, context.SchemaRepository),
                    Example = JsonNode.Parse(Example(path)),
                },
            },
        };
    }

    private static string Example(string path) =>
        path.EndsWith(":predict", StringComparison.Ordinal) ? PredictExample
        : path.EndsWith("/optimize", StringComparison.Ordinal) ? OptimizeExample
        : path.EndsWith(":explain", StringComparison.Ordinal) ? ExplainV1Example
        : path.EndsWith("/explain", StringComparison.Ordinal) ? ExplainExample
        : InferExample;
}
