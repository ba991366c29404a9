using System.Text.Json;
using System.Text.Json.Nodes;

namespace MaaS.Server.Tests.Infrastructure;

/// <summary>KServe V1 <c>{"instances": [...]}</c> requests from reference vectors, and the outputs read back from <c>predictions</c>.</summary>
public static class V1Requests
{
    public static Uri PredictUri(string model) => new($"/v1/models/{model}:predict", UriKind.Relative);

    /// <summary>
    /// Rows along the first dim: nested arrays for a single input, objects keyed by input name for several. For a
    /// model without a batch axis these are the rows of the whole tensor.
    /// </summary>
    public static JsonObject Body(ReferenceCase reference)
    {
        var rows = (int)reference.Inputs[0].Shape[0];
        var instances = new JsonArray();
        for (var row = 0; row < rows; row++)
        {
            if (reference.Inputs.Count == 1)
            {
                instances.Add(Row(reference.Inputs[0], row));
                continue;
            }

            var instance = new JsonObject();
            foreach (var input in reference.Inputs)
            {
                instance[input.Name] = Row(input, row);
            }

            instances.Add(instance);
        }

        return new JsonObject { ["instances"] = instances };
    }

    /// <summary>The columnar form, <c>{"inputs": ...}</c>: the whole tensor nested, keyed by input name when the model has several.</summary>
    public static JsonObject ColumnBody(ReferenceCase reference)
    {
        if (reference.Inputs.Count == 1)
        {
            return new JsonObject { ["inputs"] = Nested(reference.Inputs[0]) };
        }

        var inputs = new JsonObject();
        foreach (var input in reference.Inputs)
        {
            inputs[input.Name] = Nested(input);
        }

        return new JsonObject { ["inputs"] = inputs };
    }

    /// <summary>The tensor's flat reference data as nested arrays of its shape.</summary>
    public static JsonNode? Nested(ReferenceTensor tensor) => Nest(tensor.Data.EnumerateArray().ToList(), tensor.Shape);

    /// <summary>
    /// One output's elements in row-major order: the predictions themselves for a single output, else the output's
    /// entry in each prediction object (one per instance, or one for a model without a batch axis).
    /// </summary>
    public static List<object> Values(JsonElement predictions, ReferenceCase reference, ReferenceTensor output)
    {
        if (reference.Outputs.Count == 1)
        {
            return TensorValues.FromJson(predictions, output.Datatype);
        }

        return predictions.EnumerateArray()
            .SelectMany(prediction => TensorValues.FromJson(prediction.GetProperty(output.Name), output.Datatype))
            .ToList();
    }

    private static JsonNode? Row(ReferenceTensor tensor, int row)
    {
        var flat = tensor.Data.EnumerateArray().ToList();
        var rowShape = tensor.Shape[1..];
        var rowSize = (int)rowShape.Aggregate(1L, (product, dim) => product * dim);
        return Nest(flat.GetRange(row * rowSize, rowSize), rowShape);
    }

    private static JsonNode? Nest(List<JsonElement> elements, long[] shape)
    {
        if (shape.Length == 0)
        {
            return JsonNode.Parse(elements[0].GetRawText());
        }

        var array = new JsonArray();
        var inner = shape[0] == 0 ? 0 : elements.Count / (int)shape[0];
        for (var i = 0; i < shape[0]; i++)
        {
            array.Add(Nest(elements.GetRange(i * inner, inner), shape[1..]));
        }

        return array;
    }
}
