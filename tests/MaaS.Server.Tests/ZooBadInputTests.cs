using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using MaaS.Server.Hosting;
using MaaS.Server.Tests.Infrastructure;

namespace MaaS.Server.Tests;

/// <summary>
/// Bad input for the datatypes and layouts only the zoo has (every integer type's range, BOOL, BYTES, FP16, no batch axis):
/// a 400 whose error names the input and what was expected, and the server keeps serving.
/// </summary>
[Collection(ZooGroup.Name)]
public sealed class ZooBadInputTests(ZooApplication app)
{
    [Theory]
    [InlineData("int_types", "mask", "[1,0,1,1,0,0,0,0]", "data element 0 is 1; expected true or false")]
    [InlineData("int_types", "mask", "[\"true\",false,true,true,false,false,false,false]", "data element 0 is a string; expected true or false")]
    [InlineData("int_types", "u8", "[0,1,127,300,10,20,30,254]", "data element 3 (300) is out of range for UINT8")]
    [InlineData("int_types", "u8", "[0,-1,127,200,10,20,30,254]", "data element 1 (-1) is out of range for UINT8")]
    [InlineData("int_types", "u8", "[0,1.5,127,200,10,20,30,254]", "data element 1 is 1.5; expected an integer")]
    [InlineData("int_types", "i64", "[1,-2,3,18446744073709551616,-8589934592,5,-6,7]", "data element 3 (18446744073709551616) is out of range for INT64")]
    [InlineData("multi_io", "c", "[2,3,-4,5,7,3000000000]", "data element 5 (3000000000) is out of range for INT32")]
    [InlineData("multi_io", "c", "[2,3,-4,5,7,1.0]", "data element 5 is 1.0; expected an integer")]
    [InlineData("multi_io", "b", "[1,2,3,4,5,6,7,8,\"9\"]", "data element 8 is a string; expected a number")]
    [InlineData("all_types_no_fp16", "i8", "[-128,-127,0,1,126,128]", "data element 5 (128) is out of range for INT8")]
    [InlineData("all_types_no_fp16", "i16", "[-32769,-32767,0,1,32766,32767]", "data element 0 (-32769) is out of range for INT16")]
    [InlineData("all_types_no_fp16", "u16", "[0,1,2,32767,65534,65536]", "data element 5 (65536) is out of range for UINT16")]
    [InlineData("all_types_no_fp16", "u32", "[0,1,2,2147483647,4294967294,4294967296]", "data element 5 (4294967296) is out of range for UINT32")]
    [InlineData("all_types_no_fp16", "u64", "[-1,1,2,9223372036854775807,18446744073709551614,18446744073709551615]", "data element 0 (-1) is out of range for UINT64")]
    [InlineData("all_types_no_fp16", "u64", "[0,1,2,9223372036854775807,18446744073709551614,18446744073709551616]", "data element 5 (18446744073709551616) is out of range for UINT64")]
    [InlineData("all_types_no_fp16", "f32", "[3.5e38,0,0,0,0,0]", "data element 0 (3.5e38) is out of range for FP32")]
    [InlineData("all_types_no_fp16", "f64", "[1e309,0,0,0,0,0]", "data element 0 (1e309) is out of range for FP64")]
    [InlineData("strings", "text", "[\"hello\",42,\"\"]", "data element 1 is 42; expected a string")]
    [InlineData("strings", "text", "[\"hello\",null,\"\"]", "data element 1 is null; expected a string")]
    public async Task InferV2Json_ValueNotOfInputDatatype_Returns400NamingElement(string model, string input, string data, string error)
    {
        var body = ReferenceBody(model);
        Input(body, input)["data"] = JsonNode.Parse(data);
        using var client = await app.CreateReadyClientAsync();

        using var response = await client.PostAsync(V2Requests.InferUri(model), V2Requests.Json(body));

        await ShouldFailAsync(response, $"'{input}'", error);
        await ShouldStillServeAsync(client, model);
    }

    [Theory]
    [InlineData("no_batch", "x", "[1,2,3]", "shape [1,2,3]; the model expects [2,3]")]
    [InlineData("no_batch", "x", "[3,2]", "shape [3,2]; the model expects [2,3]")]
    [InlineData("no_batch_inferred", "x", "[6]", "shape [6]; the model expects [2,3]")]
    [InlineData("scalar_out", "x", "[3,6]", "the model expects [-1,5]")]
    [InlineData("multi_io", "b", "[2,3]", "batch size 2, but another input has 3")]
    public async Task InferV2Json_ShapeNotAcceptedByModel_Returns400(string model, string input, string shape, string error)
    {
        var body = ReferenceBody(model);
        Input(body, input)["shape"] = JsonNode.Parse(shape);
        using var client = await app.CreateReadyClientAsync();

        using var response = await client.PostAsync(V2Requests.InferUri(model), V2Requests.Json(body));

        await ShouldFailAsync(response, $"'{input}'", error);
        await ShouldStillServeAsync(client, model);
    }

    [Theory]
    [InlineData(new byte[] { 5, 0, 0, 0, (byte)'h', (byte)'i' }, 1, "not a sequence of 4-byte length-prefixed elements")]
    [InlineData(new byte[] { 2, 0, 0 }, 1, "not a sequence of 4-byte length-prefixed elements")]
    [InlineData(new byte[] { 2, 0, 0, 0, (byte)'h', (byte)'i' }, 2, "BYTES data has 1 elements but shape [2] needs 2")]
    [InlineData(new byte[] { 0, 0, 0, 0, 0, 0, 0, 0 }, 1, "BYTES data has 2 elements but shape [1] needs 1")]
    public async Task InferV2Binary_MalformedBytesTensor_Returns400(byte[] blob, long count, string error)
    {
        var header = new JsonObject
        {
            ["inputs"] = new JsonArray(V2Requests.BinaryInput("text", "BYTES", [count], blob.Length)),
            ["outputs"] = new JsonArray(V2Requests.BinaryOutput("same")),
        };
        using var client = await app.CreateReadyClientAsync();
        using var request = V2Requests.Binary(V2Requests.InferUri("strings"), header, [blob]);

        using var response = await client.SendAsync(request);

        await ShouldFailAsync(response, "'text'", error);
        await ShouldStillServeAsync(client, "strings");
    }

    [Fact]
    public async Task InferV2Binary_Fp16SizeNotMatchingShape_Returns400()
    {
        var header = new JsonObject
        {
            ["inputs"] = new JsonArray(V2Requests.BinaryInput("x", "FP16", [2, 4], 32)),
            ["outputs"] = new JsonArray(V2Requests.BinaryOutput("y")),
        };
        using var client = await app.CreateReadyClientAsync();
        using var request = V2Requests.Binary(V2Requests.InferUri("fp16"), header, [new byte[32]]);

        using var response = await client.SendAsync(request);

        await ShouldFailAsync(response, "input byte size mismatch for input 'x'", "needs 16 bytes", "binary_data_size is 32");
        await ShouldStillServeAsync(client, "fp16");
    }

    [Theory]
    [InlineData("strings", "same", "BYTES")]
    [InlineData("multi_io", "flag", "BOOL")]
    [InlineData("fp16", "y", "FP16")]
    public async Task InferV2_ClassificationOnUnsupportedDatatype_Returns400(string model, string output, string datatype)
    {
        var reference = ReferenceCase.Zoo(model);
        var header = new JsonObject
        {
            ["inputs"] = new JsonArray(reference.Inputs.Select(input =>
                (JsonNode)V2Requests.BinaryInput(input.Name, input.Datatype, input.Shape, TensorValues.ToBinary(input).Length)).ToArray()),
            ["outputs"] = new JsonArray(new JsonObject { ["name"] = output, ["parameters"] = new JsonObject { ["classification"] = 1 } }),
        };
        using var client = await app.CreateReadyClientAsync();
        using var request = V2Requests.Binary(V2Requests.InferUri(model), header, [.. reference.Inputs.Select(TensorValues.ToBinary)]);

        using var response = await client.SendAsync(request);

        await ShouldFailAsync(response, $"output '{output}' is {datatype}", "classification needs an integer, FP32 or FP64 output");
        await ShouldStillServeAsync(client, model);
    }

    [Theory]
    [InlineData("[[0.5,1,2,70000]]", "data element 3 (70000) is out of range for FP16")]
    [InlineData("[[0.5,1,2,3],[-65520,1,2,3]]", "data element 4 (-65520) is out of range for FP16")]
    public async Task PredictV1_ValueOutOfFp16Range_Returns400(string instances, string error)
    {
        using var client = await app.CreateReadyClientAsync();

        using var response = await client.PostAsync(V1Requests.PredictUri("fp16"), V2Requests.Json($$"""{"instances":{{instances}}}"""));

        await ShouldFailAsync(response, "'x'", error);
        await ShouldStillServeAsync(client, "fp16");
    }

    [Fact]
    public async Task PredictV1_InstanceMissingAnInput_Returns400NamingInput()
    {
        var body = JsonNode.Parse("""{"instances":[{"a":[1,2,3],"b":[1,2,3],"c":[1,2]},{"a":[1,2,3],"c":[1,2]}]}""")!;
        using var client = await app.CreateReadyClientAsync();

        using var response = await client.PostAsync(V1Requests.PredictUri("multi_io"), V2Requests.Json(body));

        await ShouldFailAsync(response, "instance 1 has no value for input 'b'");
        await ShouldStillServeAsync(client, "multi_io");
    }

    private static JsonObject ReferenceBody(string model) => V2Requests.JsonBody(ReferenceCase.Zoo(model));

    private static JsonObject Input(JsonObject body, string name) =>
        body["inputs"]!.AsArray().Select(input => input!.AsObject()).Single(input => (string?)input["name"] == name);

    private static async Task ShouldFailAsync(HttpResponseMessage response, params string[] fragments)
    {
        var body = await response.Content.ReadAsStringAsync();
        response.StatusCode.Should().Be(HttpStatusCode.BadRequest, "the body was {0}", body);
        var error = (await response.Content.ReadFromJsonAsync<ErrorResponse>())!.Error;
        foreach (var fragment in fragments)
        {
            error.Should().Contain(fragment);
        }
    }

    /// <summary>The model's reference request, sent binary as tritonclient does, still gives the reference outputs.</summary>
    private static async Task ShouldStillServeAsync(HttpClient client, string model)
    {
        var reference = ReferenceCase.Zoo(model);
        using var request = V2Requests.Binary(V2Requests.InferUri(model), reference);
        using var response = await client.SendAsync(request);
        response.StatusCode.Should().Be(HttpStatusCode.OK, "a good request after a bad one still works");
        var reply = await InferReply.ReadAsync(response);
        foreach (var expected in reference.Outputs)
        {
            reply.ShouldMatch(expected, TensorValues.Tolerance(expected.Datatype));
        }
    }
}
