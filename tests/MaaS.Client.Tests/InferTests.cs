using System.Net;
using System.Text;
using System.Text.Json;
using MaaS.Client.Tests.Infrastructure;

namespace MaaS.Client.Tests;

/// <summary>
/// InferAsync against the real server for every datatype, binary and JSON: the outputs equal the zoo's reference
/// values and the server's own JSON answer to the same request sent by hand.
/// </summary>
public sealed class InferTests(ZooServer server) : IClassFixture<ZooServer>
{
    public static TheoryData<string, bool> ModelsAndForms() => new()
    {
        { "all_types", true }, { "all_types", false },
        { "all_types_no_fp16", true }, { "all_types_no_fp16", false },
        { "multi_io", true }, { "multi_io", false },
        { "int_types", true }, { "int_types", false },
        { "fp16", true }, { "fp16", false },
        { "strings", true }, { "strings", false },
        { "scalar_out", true }, { "scalar_out", false },
        { "no_batch", true }, { "no_batch", false },
    };

    [Theory]
    [MemberData(nameof(ModelsAndForms))]
    public async Task Infer_ZooModel_OutputsEqualReference(string model, bool binary)
    {
        using var reference = ReadReference(model);
        var inputs = reference.RootElement.GetProperty("inputs").EnumerateArray().Select(ToInput).ToList();

        var result = await server.Client.InferAsync(model, inputs, new InferOptions { Binary = binary });

        result.ModelName.Should().Be(model);
        result.ModelVersion.Should().Be("1");
        var expected = reference.RootElement.GetProperty("outputs").EnumerateArray().ToList();
        result.Outputs.Select(o => o.Name).Should().BeEquivalentTo(expected.Select(e => e.GetProperty("name").GetString()));
        foreach (var output in expected)
        {
            var actual = result[output.GetProperty("name").GetString()!];
            actual.Datatype.Should().Be(output.GetProperty("datatype").GetString());
            actual.Shape.Should().Equal(output.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()));
            var expectedBytes = TensorLayout.ReadJson(output.GetProperty("data"), actual.Datatype, actual.ElementCount);
            ShouldMatch(actual.Datatype, actual.Data.ToArray(), expectedBytes);
        }
    }

    [Theory]
    [InlineData("all_types_no_fp16")]
    [InlineData("multi_io")]
    [InlineData("strings")]
    public async Task Infer_SameRequestByHand_ClientAndServerJsonAgree(string model)
    {
        using var reference = ReadReference(model);
        var body = "{\"inputs\": " + reference.RootElement.GetProperty("inputs").GetRawText() + "}";
        using var answer = await server.Raw.PostAsync($"/v2/models/{model}/infer", new StringContent(body, Encoding.UTF8, "application/json"));
        answer.StatusCode.Should().Be(HttpStatusCode.OK);
        using var http = JsonDocument.Parse(await answer.Content.ReadAsStringAsync());

        var inputs = reference.RootElement.GetProperty("inputs").EnumerateArray().Select(ToInput).ToList();
        var binary = await server.Client.InferAsync(model, inputs);
        var json = await server.Client.InferAsync(model, inputs, new InferOptions { Binary = false });

        foreach (var output in http.RootElement.GetProperty("outputs").EnumerateArray())
        {
            var name = output.GetProperty("name").GetString()!;
            var datatype = output.GetProperty("datatype").GetString()!;
            var count = output.GetProperty("shape").EnumerateArray().Aggregate(1L, (n, d) => n * d.GetInt64());
            var bytes = TensorLayout.ReadJson(output.GetProperty("data"), datatype, count);
            ShouldMatch(datatype, binary[name].Data.ToArray(), bytes);
            ShouldMatch(datatype, json[name].Data.ToArray(), bytes);
        }
    }

    [Fact]
    public async Task Infer_TypedArrays_SpansReadTheResponseBuffer()
    {
        var sbytes = new sbyte[] { -128, -127, 0, 1, 126, 127 };
        var inputs = new List<InferInput>
        {
            InferInput.Create<sbyte>("i8", sbytes, 2, 3),
            InferInput.Create<short>("i16", new short[] { 1, 2, 3, 4, 5, 6 }, 2, 3),
            InferInput.Create<int>("i32", new[] { 1, 2, 3, 4, 5, 6 }, 2, 3),
            InferInput.Create<long>("i64", new[] { long.MinValue, 2, 3, 4, 5, long.MaxValue }, 2, 3),
            InferInput.Create<byte>("u8", new byte[] { 0, 1, 2, 3, 4, 255 }, 2, 3),
            InferInput.Create<ushort>("u16", new ushort[] { 0, 1, 2, 3, 4, 65535 }, 2, 3),
            InferInput.Create<uint>("u32", new uint[] { 0, 1, 2, 3, 4, uint.MaxValue }, 2, 3),
            InferInput.Create<ulong>("u64", new ulong[] { 0, 1, 2, 3, 4, ulong.MaxValue }, 2, 3),
            InferInput.Create<Half>("f16", new[] { (Half)1.5, (Half)(-2), Half.MaxValue, (Half)0, (Half)0.25, (Half)3 }, 2, 3),
            InferInput.Create<float>("f32", new[] { 1.5f, -2f, float.MaxValue, 0f, 0.25f, 3f }, 2, 3),
            InferInput.Create<double>("f64", new[] { 1.5, -2, double.MaxValue, 0, 0.25, 3 }, 2, 3),
            InferInput.Create<bool>("b", new[] { true, false, true, true, false, false }, 2, 3),
        };

        var result = await server.Client.InferAsync("all_types", inputs);

        result["i8_out"].AsSpan<sbyte>().ToArray().Should().Equal(sbytes.Select(v => (sbyte)(-1 - v)));
        result["i64_out"].ToArray<long>().Should().Equal(long.MaxValue, -3, -4, -5, -6, long.MinValue);
        result["u64_out"].ToArray<ulong>().Should().Equal(ulong.MaxValue, ulong.MaxValue - 1, ulong.MaxValue - 2, ulong.MaxValue - 3, ulong.MaxValue - 4, 0UL);
        result["f16_out"].ToArray<Half>().Should().Equal((Half)(-1.5), (Half)2, -Half.MaxValue, (Half)0 * (Half)(-1), (Half)(-0.25), (Half)(-3));
        result["f32_out"].ToArray<float>().Should().Equal(-1.5f, 2f, -float.MaxValue, -0f, -0.25f, -3f);
        result["b_out"].ToArray<bool>().Should().Equal(false, true, false, false, true, true);
        var act = () => result["f32_out"].AsSpan<double>().Length;
        act.Should().Throw<InvalidOperationException>().WithMessage("*FP32, not FP64*");
    }

    [Fact]
    public async Task Infer_Strings_RoundTripUtf8AndEmpty()
    {
        var values = new[] { "hello", "wörld", "", "日本" };
        foreach (var binary in new[] { true, false })
        {
            var result = await server.Client.InferAsync("strings", [InferInput.FromStrings("text", values, 4)], new InferOptions { Binary = binary });
            result["same"].GetStrings().Should().Equal(values);
        }
    }

    [Fact]
    public async Task Infer_RequestedOutputsAndId_OnlyThoseReturned()
    {
        using var reference = ReadReference("multi_io");
        var inputs = reference.RootElement.GetProperty("inputs").EnumerateArray().Select(ToInput).ToList();

        var result = await server.Client.InferAsync("multi_io", inputs, new InferOptions { Outputs = [new RequestedOutput("prod")], Id = "req-7" });

        result.Outputs.Select(o => o.Name).Should().Equal("prod");
        result.Id.Should().Be("req-7");
    }

    [Fact]
    public async Task Infer_WrongShape_ThrowsWithServersMessage()
    {
        var act = () => server.Client.InferAsync("fp16", [InferInput.Create<float>("x", new float[4], 1, 4)]);

        var error = (await act.Should().ThrowAsync<MaaSException>()).Which;
        error.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        error.Message.Should().Contain("FP16");
    }

    [Fact]
    public async Task Infer_UnknownModel_Throws404()
    {
        var act = () => server.Client.InferAsync("nope", [InferInput.Create<float>("x", new float[4], 1, 4)]);

        var error = (await act.Should().ThrowAsync<MaaSException>()).Which;
        error.StatusCode.Should().Be(HttpStatusCode.NotFound);
        error.Message.Should().NotBeNullOrWhiteSpace();
    }

    [Fact]
    public void Input_ShapeThatDoesNotFitData_IsRefusedBeforeSending()
    {
        var act = () => InferInput.Create<float>("x", new float[5], 2, 3);

        act.Should().Throw<ArgumentException>().WithMessage("*5 elements*6*");
    }

    [Fact]
    public async Task Infer_Cancelled_ThrowsOperationCanceled()
    {
        using var cancellation = new CancellationTokenSource();
        await cancellation.CancelAsync();

        var act = () => server.Client.InferAsync("fp16", [InferInput.Create<Half>("x", new Half[4], 1, 4)], cancellationToken: cancellation.Token);

        await act.Should().ThrowAsync<OperationCanceledException>();
    }

    /// <summary>Exact for integers, BOOL and BYTES; floats within 1e-5 relative (the reference was computed by PyTorch).</summary>
    internal static void ShouldMatch(string datatype, byte[] actual, byte[] expected)
    {
        static double[] Values(string datatype, byte[] bytes) => datatype switch
        {
            Datatypes.Fp16 => System.Runtime.InteropServices.MemoryMarshal.Cast<byte, Half>(bytes).ToArray().Select(v => (double)v).ToArray(),
            Datatypes.Fp32 => System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(bytes).ToArray().Select(v => (double)v).ToArray(),
            _ => System.Runtime.InteropServices.MemoryMarshal.Cast<byte, double>(bytes).ToArray(),
        };

        if (datatype is Datatypes.Fp16 or Datatypes.Fp32 or Datatypes.Fp64)
        {
            var a = Values(datatype, actual);
            var e = Values(datatype, expected);
            a.Length.Should().Be(e.Length);
            for (var i = 0; i < a.Length; i++)
            {
                a[i].Should().BeApproximately(e[i], Math.Max(1e-6, Math.Abs(e[i]) * 1e-5), $"element {i} of {datatype}");
            }
        }
        else
        {
            actual.Should().Equal(expected);
        }
    }

    internal static JsonDocument ReadReference(string model) =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(RepositoryPaths.Zoo, model, "reference.json")));

    internal static InferInput ToInput(JsonElement input)
    {
        var datatype = input.GetProperty("datatype").GetString()!;
        var shape = input.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()).ToArray();
        var bytes = TensorLayout.ReadJson(input.GetProperty("data"), datatype, InferInput.ElementCount(shape));
        return InferInput.FromRaw(input.GetProperty("name").GetString()!, datatype, bytes, shape);
    }
}
