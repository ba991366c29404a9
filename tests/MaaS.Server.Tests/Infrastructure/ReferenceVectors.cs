using System.Text.Json;
using System.Text.Json.Serialization;

namespace MaaS.Server.Tests.Infrastructure;

/// <summary>A reference file: inputs and the outputs PyTorch computed for them.</summary>
public sealed record ReferenceCase(
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("version")] int Version,
    [property: JsonPropertyName("inputs")] IReadOnlyList<ReferenceTensor> Inputs,
    [property: JsonPropertyName("outputs")] IReadOnlyList<ReferenceTensor> Outputs)
{
    public static ReferenceCase Load(string path) =>
        JsonSerializer.Deserialize<ReferenceCase>(File.ReadAllText(path)) ?? throw new InvalidDataException(path);

    /// <summary>The bundled model's reference: models/tools/reference/&lt;model&gt;/&lt;version&gt;.json.</summary>
    public static ReferenceCase Bundled(string model, int version) =>
        Load(Path.Combine(RepositoryPaths.References, model, $"{version}.json"));

    /// <summary>A zoo model's reference: tests/fixtures/zoo/&lt;model&gt;/reference.json.</summary>
    public static ReferenceCase Zoo(string model) => Load(Path.Combine(RepositoryPaths.Zoo, model, "reference.json"));
}

/// <summary>One tensor: protocol datatype, shape, flat row-major data (numbers, booleans or strings).</summary>
public sealed record ReferenceTensor(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("datatype")] string Datatype,
    [property: JsonPropertyName("shape")] long[] Shape,
    [property: JsonPropertyName("data")] JsonElement Data);
