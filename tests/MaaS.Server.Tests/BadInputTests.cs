using System.Globalization;
using System.IO.Compression;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using MaaS.Server.Hosting;
using MaaS.Server.Tests.Infrastructure;

namespace MaaS.Server.Tests;

/// <summary>
/// Requests a client gets wrong: each answers its status with an <c>{"error"}</c> that says what was wrong, and the
/// server keeps serving (a good request afterwards still works).
/// </summary>
[Collection(BundledModelsGroup.Name)]
public sealed class BadInputTests(MaaSApplication app)
{
    private const string Mlp = "/v2/models/mlp/infer";
    private const string Transformer = "/v2/models/transformer/infer";
    private const string MlpInput = """{"name":"input","datatype":"FP32","shape":[1,4],"data":[1,2,3,4]}""";
    private const string Mask = """{"name":"attention_mask","datatype":"INT64","shape":[1,2],"data":[1,1]}""";

    [Theory]
    [InlineData("/v2/models/nope/infer", "Request for unknown model: 'nope' is not found")]
    [InlineData("/v2/models/mlp/versions/2/infer", "'mlp' version 2 is not found")]
    [InlineData("/v2/models/mlp/versions/latest/infer", "Not Found")]
    [InlineData("/v2/models/mlp/versions/-1/infer", "Not Found")]
    public async Task Infer_UnknownModelOrVersion_Returns404(string path, string error)
    {
        using var client = await app.CreateReadyClientAsync();

        using var response = await client.PostAsync(new Uri(path, UriKind.Relative), V2Requests.Json($$"""{"inputs":[{{MlpInput}}]}"""));

        await ShouldFailAsync(response, HttpStatusCode.NotFound, error);
        await ShouldStillServeAsync(client);
    }

    [Theory]
    [InlineData("FP64", "'input' has datatype FP64; the model expects FP32")]
    [InlineData("INT64", "'input' has datatype INT64; the model expects FP32")]
    [InlineData("FLOAT", "invalid datatype 'FLOAT'")]
    public async Task Infer_WrongDatatype_Returns400NamingExpectedType(string datatype, string error)
    {
        using var client = await app.CreateReadyClientAsync();

        using var response = await PostAsync(client, Mlp, $$"""{"inputs":[{"name":"input","datatype":"{{datatype}}","shape":[1,4],"data":[1,2,3,4]}]}""");

        await ShouldFailAsync(response, HttpStatusCode.BadRequest, error);
        await ShouldStillServeAsync(client);
    }

    [Theory]
    [InlineData("[4]", "[1,2,3,4]", "shape [4]; the model expects [-1,4]")]
    [InlineData("[1,1,4]", "[1,2,3,4]", "shape [1,1,4]; the model expects [-1,4]")]
    [InlineData("[1,5]", "[1,2,3,4,5]", "shape [1,5]; the model expects [-1,4]")]
    [InlineData("[0,4]", "[]", "batch size 0; the model accepts 1 to 64")]
    [InlineData("[65,4]", "[]", "batch size 65; the model accepts 1 to 64")]
    [InlineData("[-1,4]", "[1,2,3,4]", "negative dimension (-1)")]
    [InlineData("[1,-4]", "[1,2,3,4]", "negative dimension (-4)")]
    [InlineData("[1.5,4]", "[1,2,3,4]", "\"shape\" must be an array of non-negative integers")]
    [InlineData("\"1,4\"", "[1,2,3,4]", "\"shape\" must be an array of non-negative integers")]
    public async Task Infer_ShapeNotAcceptedByModel_Returns400NamingExpectedShape(string shape, string data, string error)
    {
        using var client = await app.CreateReadyClientAsync();

        using var response = await PostAsync(client, Mlp, $$"""{"inputs":[{"name":"input","datatype":"FP32","shape":{{shape}},"data":{{data}}}]}""");

        await ShouldFailAsync(response, HttpStatusCode.BadRequest, "'input'", error);
        await ShouldStillServeAsync(client);
    }

    [Theory]
    [InlineData("[2,4]", "[1,2,3,4]", "8")]
    [InlineData("[2,4]", "[[1,2,3,4],[5,6,7]]", "8")]
    [InlineData("[2,4]", "[1,2,3,4,5,6,7,8,9]", "8")]
    [InlineData("[1,4]", "[1,2,3,4,5,6,7,8]", "4")]
    [InlineData("[1,4]", "[[1,2],[3,4],[5]]", "4")]
    [InlineData("[1,4]", "[]", "4")]
    [InlineData("[1,4]", "1", "4")]
    public async Task Infer_ElementCountNotMatchingShape_Returns400(string shape, string data, string needed)
    {
        using var client = await app.CreateReadyClientAsync();

        using var response = await PostAsync(client, Mlp, $$"""{"inputs":[{"name":"input","datatype":"FP32","shape":{{shape}},"data":{{data}}}]}""");

        await ShouldFailAsync(response, HttpStatusCode.BadRequest, "'input'", "elements", needed);
        await ShouldStillServeAsync(client);
    }

    [Theory]
    [InlineData(Mlp, """{"inputs":[{"name":"input","datatype":"FP32","shape":[1000000000,4],"data":[1,2,3,4]}]}""", "batch size 1000000000")]
    [InlineData(Mlp, """{"inputs":[{"name":"input","datatype":"FP32","shape":[1,4000000000],"data":[1,2,3,4]}]}""", "shape [1,4000000000]")]
    [InlineData(Transformer, """{"inputs":[{"name":"input_ids","datatype":"INT64","shape":[1,4000000000],"data":[1,2]},""" + Mask + "]}", "4000000000 elements")]
    [InlineData(Transformer, """{"inputs":[{"name":"input_ids","datatype":"INT64","shape":[1,9223372036854775807],"data":[1,2]},""" + Mask + "]}", "'input_ids'")]
    [InlineData(Transformer, """{"inputs":[{"name":"input_ids","datatype":"INT64","shape":[64,4000000000000000000],"data":[1,2]},""" + Mask + "]}", "too many elements")]
    public async Task Infer_AbsurdShapeWithTinyBody_Returns400WithoutAllocating(string path, string body, string error)
    {
        using var client = await app.CreateReadyClientAsync();

        // A generous bound: it only tells "refused from the shape" from "tried to allocate gigabytes".
        HttpResponseMessage? response = null;
        await FluentActions.Awaiting(async () => response = await PostAsync(client, path, body)).Should().CompleteWithinAsync(TimeSpan.FromSeconds(10));

        using (response)
        {
            await ShouldFailAsync(response!, HttpStatusCode.BadRequest, error);
        }

        await ShouldStillServeAsync(client);
    }

    [Theory]
    [InlineData(Transformer, """{"inputs":[{"name":"input_ids","datatype":"INT64","shape":[1,2],"data":[1,2]}]}""", "missing input 'attention_mask'")]
    [InlineData(Mlp, """{"inputs":[]}""", "missing input 'input'")]
    [InlineData(Mlp, """{"inputs":[""" + MlpInput + "," + MlpInput + "]}", "input 'input' appears more than once")]
    [InlineData(Mlp, """{"inputs":[""" + MlpInput + """,{"name":"extra","datatype":"FP32","shape":[1,4],"data":[1,2,3,4]}]}""", "unknown input 'extra'")]
    [InlineData(Mlp, """{"inputs":[{"datatype":"FP32","shape":[1,4],"data":[1,2,3,4]}]}""", "needs a \"name\"")]
    [InlineData(Mlp, """{"inputs":[{"name":"input","shape":[1,4],"data":[1,2,3,4]}]}""", "'input' needs a \"datatype\" and a \"shape\"")]
    [InlineData(Mlp, """{"inputs":[{"name":"input","datatype":"FP32","data":[1,2,3,4]}]}""", "'input' needs a \"datatype\" and a \"shape\"")]
    [InlineData(Mlp, """{"inputs":[{"name":"input","datatype":"FP32","shape":[1,4]}]}""", "'input' must carry exactly one of \"data\" or parameters.binary_data_size")]
    [InlineData(Mlp, """{"inputs":[{"name":"input","datatype":"FP32","shape":[1,4],"data":[1,2,3,4],"parameters":{"binary_data_size":16}}]}""", "'input' must carry exactly one of \"data\" or parameters.binary_data_size")]
    [InlineData(Mlp, """{"outputs":[{"name":"logits"}]}""", "no \"inputs\"")]
    [InlineData(Mlp, """{"inputs":{"input":[1,2,3,4]}}""", "\"inputs\" must be an array")]
    [InlineData(Mlp, """{"inputs":[[1,2,3,4]]}""", "each entry of \"inputs\" must be a JSON object")]
    public async Task Infer_InputsMissingDuplicatedOrUnknown_Returns400(string path, string body, string error)
    {
        using var client = await app.CreateReadyClientAsync();

        using var response = await PostAsync(client, path, body);

        await ShouldFailAsync(response, HttpStatusCode.BadRequest, error);
        await ShouldStillServeAsync(client);
    }

    [Theory]
    [InlineData("""[{"name":"probabilities"}]""", "unknown output 'probabilities'; the model's outputs are: logits (FP32 [-1,3])")]
    [InlineData("""[{"name":"logits"},{"name":"logits"}]""", "output 'logits' is requested more than once")]
    [InlineData("""[{"parameters":{"binary_data":true}}]""", "needs a \"name\"")]
    [InlineData("""[{"name":"logits","parameters":{"classification":-1}}]""", "'classification' must be a non-negative integer")]
    [InlineData("""[{"name":"logits","parameters":{"classification":"2"}}]""", "'classification' must be a non-negative integer")]
    [InlineData("""[{"name":"logits","parameters":{"binary_data":"yes"}}]""", "'binary_data' must be true or false")]
    [InlineData("""{"name":"logits"}""", "\"outputs\" must be an array")]
    public async Task Infer_BadOutputs_Returns400(string outputs, string error)
    {
        using var client = await app.CreateReadyClientAsync();

        using var response = await PostAsync(client, Mlp, $$"""{"inputs":[{{MlpInput}}],"outputs":{{outputs}}}""");

        await ShouldFailAsync(response, HttpStatusCode.BadRequest, error);
        await ShouldStillServeAsync(client);
    }

    [Theory]
    [InlineData("""{"triton_enable_empty_final_response":true}""", "parameter 'triton_enable_empty_final_response' is reserved")]
    [InlineData("""{"custom":{"nested":1}}""", "parameter 'custom' has invalid type")]
    [InlineData("""{"custom":null}""", "parameter 'custom' has invalid type")]
    [InlineData("""{"binary_data_output":"true"}""", "'binary_data_output' must be true or false")]
    [InlineData("""[]""", "\"parameters\" must be a JSON object")]
    public async Task Infer_BadRequestParameters_Returns400(string parameters, string error)
    {
        using var client = await app.CreateReadyClientAsync();

        using var response = await PostAsync(client, Mlp, $$"""{"inputs":[{{MlpInput}}],"parameters":{{parameters}}}""");

        await ShouldFailAsync(response, HttpStatusCode.BadRequest, error);
        await ShouldStillServeAsync(client);
    }

    [Theory]
    [InlineData("""{"inputs":[""", "malformed JSON")]
    [InlineData("""{"inputs":[{"name":"input","datatype":"FP32","shape":[1,4],"data":[1,2,3,4]}""", "malformed JSON")]
    [InlineData("""{"inputs":[}""", "malformed JSON")]
    [InlineData("""{"inputs":[{"name":"input","datatype":"FP32","shape":[1,4],"data":[1,2,3,4],}]}""", "malformed JSON")]
    [InlineData("""{'inputs':[]}""", "malformed JSON")]
    [InlineData("", "malformed JSON")]
    [InlineData("""[{"name":"input"}]""", "request body must be a JSON object")]
    [InlineData("42", "request body must be a JSON object")]
    [InlineData("\"inputs\"", "request body must be a JSON object")]
    [InlineData("""{"inputs":[]} {}""", "malformed JSON")]
    [InlineData("""{"id":42,"inputs":[]}""", "\"id\" must be a string")]
    public async Task Infer_MalformedJsonOrNotAnObject_Returns400(string body, string error)
    {
        using var client = await app.CreateReadyClientAsync();

        using var response = await PostAsync(client, Mlp, body);

        await ShouldFailAsync(response, HttpStatusCode.BadRequest, error);
        await ShouldStillServeAsync(client);
    }

    [Fact]
    public async Task Infer_JsonNestedDeeperThanLimit_Returns400()
    {
        var data = new string('[', 200) + "1" + new string(']', 200);
        using var client = await app.CreateReadyClientAsync();

        using var response = await PostAsync(client, Mlp, $$"""{"inputs":[{"name":"input","datatype":"FP32","shape":[1,4],"data":{{data}}}]}""");

        await ShouldFailAsync(response, HttpStatusCode.BadRequest, "malformed JSON", "depth");
        await ShouldStillServeAsync(client);
    }

    [Theory]
    [InlineData(Mlp, "input", "FP32", "[1,2,\"3\",4]", "data element 2 is a string; expected a number")]
    [InlineData(Mlp, "input", "FP32", "[1,2,null,4]", "data element 2 is null; expected a number")]
    [InlineData(Mlp, "input", "FP32", "[1,2,true,4]", "data element 2 is true; expected a number")]
    [InlineData(Mlp, "input", "FP32", "[1,2,{},4]", "data element 2 is an object; expected a number")]
    [InlineData(Mlp, "input", "FP32", "[1,2,3,1e39]", "data element 3 (1e39) is out of range for FP32")]
    [InlineData(Transformer, "input_ids", "INT64", "[1,1.5]", "data element 1 is 1.5; expected an integer")]
    [InlineData(Transformer, "input_ids", "INT64", "[1,2.0]", "data element 1 is 2.0; expected an integer")]
    [InlineData(Transformer, "input_ids", "INT64", "[1,1e19]", "data element 1 is 1e19; expected an integer")]
    [InlineData(Transformer, "input_ids", "INT64", "[1,1e30]", "data element 1 is 1e30; expected an integer")]
    [InlineData(Transformer, "input_ids", "INT64", "[1,9223372036854775808]", "data element 1 (9223372036854775808) is out of range for INT64")]
    [InlineData(Transformer, "input_ids", "INT64", "[-9223372036854775809,1]", "data element 0 (-9223372036854775809) is out of range for INT64")]
    [InlineData(Transformer, "input_ids", "INT64", "[1,\"2\"]", "data element 1 is a string; expected an integer")]
    public async Task Infer_WrongJsonTypeInData_Returns400NamingElement(string path, string input, string datatype, string data, string error)
    {
        var other = path == Mlp ? "" : "," + Mask;
        using var client = await app.CreateReadyClientAsync();

        using var response = await PostAsync(
            client, path, $$"""{"inputs":[{"name":"{{input}}","datatype":"{{datatype}}","shape":[1,{{(path == Mlp ? 4 : 2)}}],"data":{{data}}}{{other}}]}""");

        await ShouldFailAsync(response, HttpStatusCode.BadRequest, $"'{input}'", error);
        await ShouldStillServeAsync(client);
    }

    [Theory]
    [InlineData("/v2/models/rnn/infer", """{"inputs":[{"name":"sequence","datatype":"FP32","shape":[2,0,8],"data":[]}]}""", "'sequence' has shape [2,0,8], which holds no elements")]
    [InlineData(Transformer, """{"inputs":[{"name":"input_ids","datatype":"INT64","shape":[1,0],"data":[]},{"name":"attention_mask","datatype":"INT64","shape":[1,0],"data":[]}]}""", "'input_ids' has shape [1,0], which holds no elements")]
    [InlineData("/v1/models/transformer:predict", """{"instances":[{"input_ids":[],"attention_mask":[]}]}""", "'input_ids' has shape [1,0], which holds no elements")]
    public async Task Infer_EmptyTensor_Returns400AndServerSurvives(string path, string body, string error)
    {
        // ONNX Runtime's RNN kernel aborts the process on a sequence of length 0: the request must never reach it.
        using var client = await app.CreateReadyClientAsync();

        using var response = await PostAsync(client, path, body);

        await ShouldFailAsync(response, HttpStatusCode.BadRequest, error);
        await ShouldStillServeAsync(client);
    }

    [Fact]
    public async Task Infer_BinaryEmptyTensor_Returns400AndServerSurvives()
    {
        var header = new JsonObject { ["inputs"] = new JsonArray(V2Requests.BinaryInput("sequence", "FP32", [1, 0, 8], 0)) };
        using var client = await app.CreateReadyClientAsync();
        using var request = V2Requests.Binary(new Uri("/v2/models/rnn/infer", UriKind.Relative), header, []);

        using var response = await client.SendAsync(request);

        await ShouldFailAsync(response, HttpStatusCode.BadRequest, "'sequence' has shape [1,0,8], which holds no elements");
        await ShouldStillServeAsync(client);
    }

    [Fact]
    public async Task Infer_TransformerInputsOfDifferentLengths_Returns400FromModel()
    {
        using var client = await app.CreateReadyClientAsync();

        using var response = await PostAsync(
            client, Transformer, """{"inputs":[{"name":"input_ids","datatype":"INT64","shape":[1,3],"data":[1,2,3]},{"name":"attention_mask","datatype":"INT64","shape":[1,2],"data":[1,1]}]}""");

        await ShouldFailAsync(response, HttpStatusCode.BadRequest, "the model rejected the input", "broadcast");
        await ShouldStillServeAsync(client);
    }

    [Fact]
    public async Task Infer_SequenceLongerThanTransformerPositions_Returns400FromModel()
    {
        var ones = string.Join(",", Enumerable.Repeat("1", 65));
        using var client = await app.CreateReadyClientAsync();

        using var response = await PostAsync(
            client, Transformer, $$"""{"inputs":[{"name":"input_ids","datatype":"INT64","shape":[1,65],"data":[{{ones}}]},{"name":"attention_mask","datatype":"INT64","shape":[1,65],"data":[{{ones}}]}]}""");

        await ShouldFailAsync(response, HttpStatusCode.BadRequest, "the model rejected the input", "idx=64");
        await ShouldStillServeAsync(client);
    }

    [Theory]
    [InlineData(500)]
    [InlineData(100)]
    [InlineData(-101)]
    public async Task Infer_TokenIdOutsideTransformerVocabulary_Returns400(long token)
    {
        using var client = await app.CreateReadyClientAsync();

        using var response = await PostAsync(
            client, Transformer, $$"""{"inputs":[{"name":"input_ids","datatype":"INT64","shape":[1,2],"data":[1,{{token}}]},{{Mask}}]}""");

        await ShouldFailAsync(response, HttpStatusCode.BadRequest, "the model rejected the input", token.ToString(CultureInfo.InvariantCulture));
        await ShouldStillServeAsync(client);
    }

    [Theory]
    [InlineData(12, 12, "input byte size mismatch for input 'input'")]
    [InlineData(16, 20, "unexpected additional input data: 4 bytes")]
    [InlineData(32, 16, "unexpected size for input 'input', expecting 32 additional bytes")]
    [InlineData(20, 20, "input byte size mismatch for input 'input'")]
    public async Task Infer_BinaryDataSizeNotMatchingBody_Returns400(long declared, int sent, string error)
    {
        var header = new JsonObject { ["inputs"] = new JsonArray(V2Requests.BinaryInput("input", "FP32", [1, 4], declared)) };
        using var client = await app.CreateReadyClientAsync();
        using var request = V2Requests.Binary(new Uri(Mlp, UriKind.Relative), header, [new byte[sent]]);

        using var response = await client.SendAsync(request);

        await ShouldFailAsync(response, HttpStatusCode.BadRequest, error);
        await ShouldStillServeAsync(client);
    }

    [Theory]
    [InlineData("/v2/models/transformer/infer", "input_ids", "INT64", 2305843009213693952L, 8)]
    [InlineData("/v2/models/rnn/infer", "sequence", "FP32", 576460752303423488L, 8)]
    public async Task Infer_BinaryShapeWhoseByteSizeOverflows_Returns400(string path, string input, string datatype, long dim, int lastDim)
    {
        // dim * lastDim * element size is 2^64: a 64-bit byte count wraps around to 0, the size sent.
        long[] shape = datatype == "INT64" ? [1, dim] : [1, dim, lastDim];
        var inputs = new JsonArray(V2Requests.BinaryInput(input, datatype, shape, 0));
        if (input == "input_ids")
        {
            inputs.Add(V2Requests.BinaryInput("attention_mask", datatype, shape, 0));
        }

        using var client = await app.CreateReadyClientAsync();
        using var request = V2Requests.Binary(new Uri(path, UriKind.Relative), new JsonObject { ["inputs"] = inputs }, []);

        using var response = await client.SendAsync(request);

        await ShouldFailAsync(response, HttpStatusCode.BadRequest, $"input byte size mismatch for input '{input}'", "binary_data_size is 0");
        await ShouldStillServeAsync(client);
    }

    [Fact]
    public async Task Infer_NegativeBinaryDataSize_Returns400()
    {
        var header = new JsonObject { ["inputs"] = new JsonArray(V2Requests.BinaryInput("input", "FP32", [1, 4], -16)) };
        using var client = await app.CreateReadyClientAsync();
        using var request = V2Requests.Binary(new Uri(Mlp, UriKind.Relative), header, [new byte[16]]);

        using var response = await client.SendAsync(request);

        await ShouldFailAsync(response, HttpStatusCode.BadRequest, "'input'", "binary_data_size must be a non-negative integer");
        await ShouldStillServeAsync(client);
    }

    [Theory]
    [InlineData("100000", "Inference-Header-Content-Length must be an integer")]
    [InlineData("abc", "Inference-Header-Content-Length must be an integer")]
    [InlineData("-5", "Inference-Header-Content-Length must be an integer")]
    [InlineData("12.5", "Inference-Header-Content-Length must be an integer")]
    [InlineData("10", "malformed JSON")]
    public async Task Infer_BadInferenceHeaderContentLength_Returns400(string headerLength, string error)
    {
        var header = new JsonObject { ["inputs"] = new JsonArray(V2Requests.BinaryInput("input", "FP32", [1, 4], 16)) };
        using var client = await app.CreateReadyClientAsync();
        using var request = V2Requests.Binary(new Uri(Mlp, UriKind.Relative), header, [new byte[16]], headerLength);

        using var response = await client.SendAsync(request);

        await ShouldFailAsync(response, HttpStatusCode.BadRequest, error);
        await ShouldStillServeAsync(client);
    }

    [Fact]
    public async Task Infer_BinaryInputWithoutHeaderLength_Returns400()
    {
        var header = new JsonObject { ["inputs"] = new JsonArray(V2Requests.BinaryInput("input", "FP32", [1, 4], 16)) };
        var body = Encoding.UTF8.GetBytes(header.ToJsonString()).Concat(new byte[16]).ToArray();
        using var client = await app.CreateReadyClientAsync();

        using var response = await client.PostAsync(new Uri(Mlp, UriKind.Relative), V2Requests.Raw(body));

        await ShouldFailAsync(response, HttpStatusCode.BadRequest, "unexpected size for input 'input'");
        await ShouldStillServeAsync(client);
    }

    [Fact]
    public async Task Infer_UnsupportedContentEncoding_Returns400NamingEncodings()
    {
        var content = V2Requests.Json($$"""{"inputs":[{{MlpInput}}]}""");
        content.Headers.ContentEncoding.Add("br");
        using var client = await app.CreateReadyClientAsync();

        using var response = await client.PostAsync(new Uri(Mlp, UriKind.Relative), content);

        await ShouldFailAsync(response, HttpStatusCode.BadRequest, "unsupported Content-Encoding 'br'", "gzip");
        await ShouldStillServeAsync(client);
    }

    [Theory]
    [InlineData("gzip")]
    [InlineData("deflate")]
    public async Task Infer_GarbageCompressedBody_Returns400(string encoding)
    {
        var content = V2Requests.Raw(Encoding.UTF8.GetBytes("this is not compressed data at all, just text"));
        content.Headers.ContentEncoding.Add(encoding);
        using var client = await app.CreateReadyClientAsync();

        using var response = await client.PostAsync(new Uri(Mlp, UriKind.Relative), content);

        await ShouldFailAsync(response, HttpStatusCode.BadRequest, $"request body is not valid {encoding} data");
        await ShouldStillServeAsync(client);
    }

    [Fact]
    public async Task Infer_TruncatedGzipBody_Returns400()
    {
        var compressed = Gzip(Encoding.UTF8.GetBytes($$"""{"inputs":[{{MlpInput}}]}"""));
        var content = V2Requests.Raw(compressed[..(compressed.Length / 2)]);
        content.Headers.ContentEncoding.Add("gzip");
        using var client = await app.CreateReadyClientAsync();

        using var response = await client.PostAsync(new Uri(Mlp, UriKind.Relative), content);

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await ReadErrorAsync(response)).Should().NotBeNullOrWhiteSpace();
        await ShouldStillServeAsync(client);
    }

    [Fact]
    public async Task Infer_WrongMethod_Returns405WithErrorBody()
    {
        using var client = await app.CreateReadyClientAsync();

        using var response = await client.GetAsync(new Uri(Mlp, UriKind.Relative));

        await ShouldFailAsync(response, HttpStatusCode.MethodNotAllowed, "Method Not Allowed");
        await ShouldStillServeAsync(client);
    }

    [Theory]
    [InlineData("/v1/models/nope:predict", """{"instances":[[1,2,3,4]]}""", HttpStatusCode.NotFound, "'nope'")]
    [InlineData("/v1/models/mlp:predict", """{"instances":[[1,2,3,4],[1,2,3]]}""", HttpStatusCode.BadRequest, "ragged")]
    [InlineData("/v1/models/mlp:predict", """{"instances":[]}""", HttpStatusCode.BadRequest, "non-empty array")]
    [InlineData("/v1/models/mlp:predict", """{"rows":[[1,2,3,4]]}""", HttpStatusCode.BadRequest, "{\"instances\": [...]}")]
    [InlineData("/v1/models/mlp:predict", """{"instances":[[1,2,3]]}""", HttpStatusCode.BadRequest, "the model expects [-1,4]")]
    [InlineData("/v1/models/mlp:predict", """{"instances":[[1,2,"x",4]]}""", HttpStatusCode.BadRequest, "expected a number")]
    [InlineData("/v1/models/transformer:predict", """{"instances":[[1,2]]}""", HttpStatusCode.BadRequest, "object keyed by input name")]
    [InlineData("/v1/models/transformer:predict", """{"instances":[{"input_ids":[1,2]}]}""", HttpStatusCode.BadRequest, "'attention_mask'")]
    [InlineData("/v1/models/mlp:predict", """{"instances":[[1,2,3,4]""", HttpStatusCode.BadRequest, "malformed JSON")]
    public async Task PredictV1_BadRequest_ReturnsErrorNamingTheProblem(string path, string body, HttpStatusCode status, string error)
    {
        using var client = await app.CreateReadyClientAsync();

        using var response = await PostAsync(client, path, body);

        await ShouldFailAsync(response, status, error);
        await ShouldStillServeAsync(client);
    }

    [Theory]
    [InlineData("declared")]
    [InlineData("chunked")]
    [InlineData("gzip")]
    public async Task Infer_BodyOverLimit_Returns413NamingLimit(string how)
    {
        using var repository = new TempRepository().CopyModel(RepositoryPaths.Models, "mlp");
        using var limited = new RepositoryApplication(repository.Path, new Dictionary<string, string?> { ["MaaS:Limits:MaxRequestBodyBytes"] = "2048" });
        using var client = await limited.CreateReadyClientAsync();
        var json = Encoding.UTF8.GetBytes($$"""{"inputs":[{{MlpInput}}],"padding":"{{new string('x', 4096)}}"}""");
        HttpContent content = how switch
        {
            "declared" => V2Requests.Raw(json),
            "chunked" => new StreamContent(new UnseekableStream(json)),
            _ => V2Requests.Raw(Gzip(json)),
        };
        if (how == "gzip")
        {
            content.Headers.ContentEncoding.Add("gzip");
        }

        using (content)
        {
            using var response = await client.PostAsync(new Uri(Mlp, UriKind.Relative), content);

            await ShouldFailAsync(response, HttpStatusCode.RequestEntityTooLarge, "limit of 2048 bytes", "MaaS:Limits:MaxRequestBodyBytes");
        }

        await ShouldStillServeAsync(client);
    }

    private static Task<HttpResponseMessage> PostAsync(HttpClient client, string path, string body) =>
        client.PostAsync(new Uri(path, UriKind.Relative), V2Requests.Json(body));

    private static async Task ShouldFailAsync(HttpResponseMessage response, HttpStatusCode status, params string[] fragments)
    {
        var body = await response.Content.ReadAsStringAsync();
        response.StatusCode.Should().Be(status, "the body was {0}", body);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/json");
        var error = (await response.Content.ReadFromJsonAsync<ErrorResponse>())!.Error;
        foreach (var fragment in fragments)
        {
            error.Should().Contain(fragment);
        }
    }

    private static async Task<string> ReadErrorAsync(HttpResponseMessage response) =>
        (await response.Content.ReadFromJsonAsync<ErrorResponse>())!.Error;

    /// <summary>A good request after a bad one: the server still answers it correctly.</summary>
    private static async Task ShouldStillServeAsync(HttpClient client)
    {
        var reference = ReferenceCase.Bundled("mlp", 1);
        using var response = await client.PostAsync(new Uri(Mlp, UriKind.Relative), V2Requests.Json(V2Requests.JsonBody(reference)));
        response.StatusCode.Should().Be(HttpStatusCode.OK, "a good request after a bad one still works");
        (await InferReply.ReadAsync(response)).ShouldMatch(reference.Outputs[0], 1e-4);
    }

    private static byte[] Gzip(byte[] data)
    {
        using var compressed = new MemoryStream();
        using (var gzip = new GZipStream(compressed, CompressionLevel.Optimal, leaveOpen: true))
        {
            gzip.Write(data);
        }

        return compressed.ToArray();
    }

    /// <summary>A stream of unknown length, so the request goes without Content-Length.</summary>
    private sealed class UnseekableStream(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;
    }
}
