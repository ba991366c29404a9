using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;

namespace MaaS.Server.Tests.Infrastructure;

/// <summary>Open Inference Protocol V2 requests: JSON bodies, and binary bodies exactly as tritonclient.http sends them.</summary>
public static class V2Requests
{
    public const string HeaderLength = "Inference-Header-Content-Length";

    public static Uri InferUri(string model, int? version = null) =>
        new(version is null ? $"/v2/models/{model}/infer" : $"/v2/models/{model}/versions/{version}/infer", UriKind.Relative);

    /// <summary>The reference inputs as JSON <c>data</c>; no <c>outputs</c>, so every output comes back as JSON.</summary>
    public static JsonObject JsonBody(ReferenceCase reference) => new()
    {
        ["inputs"] = new JsonArray(reference.Inputs.Select(input => (JsonNode)JsonInput(input)).ToArray()),
    };

    public static JsonObject JsonInput(ReferenceTensor tensor) => new()
    {
        ["name"] = tensor.Name,
        ["datatype"] = tensor.Datatype,
        ["shape"] = new JsonArray(tensor.Shape.Select(dim => (JsonNode)dim).ToArray()),
        ["data"] = JsonNode.Parse(tensor.Data.GetRawText()),
    };

    /// <summary>A JSON input with explicit <c>data</c>, for requests a test writes by hand.</summary>
    public static JsonObject JsonInput(string name, string datatype, long[] shape, JsonNode? data) => new()
    {
        ["name"] = name,
        ["datatype"] = datatype,
        ["shape"] = new JsonArray(shape.Select(dim => (JsonNode)dim).ToArray()),
        ["data"] = data,
    };

    public static StringContent Json(JsonNode body) => new(body.ToJsonString(), Encoding.UTF8, "application/json");

    public static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    /// <summary>
    /// The reference as tritonclient.http's default infer() sends it: every input as binary (parameters.binary_data_size),
    /// every output requested with binary_data true.
    /// </summary>
    public static HttpRequestMessage Binary(Uri uri, ReferenceCase reference)
    {
        var blobs = reference.Inputs.Select(TensorValues.ToBinary).ToList();
        var header = new JsonObject
        {
            ["inputs"] = new JsonArray(reference.Inputs.Select((input, i) => (JsonNode)BinaryInput(input.Name, input.Datatype, input.Shape, blobs[i].Length)).ToArray()),
            ["outputs"] = new JsonArray(reference.Outputs.Select(output => (JsonNode)BinaryOutput(output.Name)).ToArray()),
        };
        return Binary(uri, header, [.. blobs]);
    }

    public static JsonObject BinaryInput(string name, string datatype, long[] shape, long size) => new()
    {
        ["name"] = name,
        ["datatype"] = datatype,
        ["shape"] = new JsonArray(shape.Select(dim => (JsonNode)dim).ToArray()),
        ["parameters"] = new JsonObject { ["binary_data_size"] = size },
    };

    public static JsonObject BinaryOutput(string name) => new()
    {
        ["name"] = name,
        ["parameters"] = new JsonObject { ["binary_data"] = true },
    };

    /// <summary>
    /// JSON header followed by the blobs, with Inference-Header-Content-Length (the header's length unless
    /// <paramref name="headerLength"/> says otherwise) and no Content-Type at all, like tritonclient.http.
    /// </summary>
    public static HttpRequestMessage Binary(Uri uri, JsonObject header, byte[][] blobs, string? headerLength = null)
    {
        var json = Encoding.UTF8.GetBytes(header.ToJsonString());
        var body = json.Concat(blobs.SelectMany(blob => blob)).ToArray();
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = null;
        content.Headers.Remove("Content-Type");
        var message = new HttpRequestMessage(HttpMethod.Post, uri) { Content = content };
        message.Headers.Add(HeaderLength, headerLength ?? json.Length.ToString(CultureInfo.InvariantCulture));
        return message;
    }

    /// <summary>A raw body (bytes as given) with no Content-Type.</summary>
    public static ByteArrayContent Raw(byte[] body)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = null;
        return content;
    }

    public static MediaTypeHeaderValue? ContentType(HttpResponseMessage response) => response.Content.Headers.ContentType;
}
