namespace MaaS.Server.Hosting;

/// <summary>The one error body of every route: <c>{"error": "what was wrong and what was expected"}</c>.</summary>
public sealed record ErrorResponse([property: System.Text.Json.Serialization.JsonPropertyName("error")] string Error);
