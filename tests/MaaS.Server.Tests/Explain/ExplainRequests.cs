using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using MaaS.Server.Tests.Infrastructure;

namespace MaaS.Server.Tests.Explain;

/// <summary>Explanation requests built from reference inputs, and their answers read back.</summary>
internal static class ExplainRequests
{
    public static Uri ExplainUri(string model, string route = "") => new($"/v2/models/{model}{route}/explain", UriKind.Relative);

    public static JsonObject Body(ReferenceCase reference, JsonObject parameters) => new()
    {
        ["inputs"] = new JsonArray([.. reference.Inputs.Select(input => (JsonNode)V2Requests.JsonInput(input))]),
        ["parameters"] = parameters,
    };

    public static async Task<Explained> PostAsync(HttpClient client, string model, JsonObject body, string route = "")
    {
        using var response = await client.PostAsync(ExplainUri(model, route), V2Requests.Json(body));
        var text = await response.Content.ReadAsStringAsync();
        response.StatusCode.Should().Be(HttpStatusCode.OK, text);
        return new Explained(JsonDocument.Parse(text).RootElement.Clone());
    }

    public static double[] Floats(JsonElement data) => [.. data.EnumerateArray().Select(value => value.GetDouble())];
}

/// <summary>A V2 explanation: attributions by input name, and what the parameters say.</summary>
internal sealed record Explained(JsonElement Json)
{
    public JsonElement Parameters => Json.GetProperty("parameters");

    public double[] Prediction => ExplainRequests.Floats(Parameters.GetProperty("prediction"));

    public double[] BaselinePrediction => ExplainRequests.Floats(Parameters.GetProperty("baseline_prediction"));

    public int Evaluations => Parameters.GetProperty("evaluations").GetInt32();

    public string Method => Parameters.GetProperty("method").GetString()!;

    public string[] HeldFixed => [.. Parameters.GetProperty("held_fixed").EnumerateArray().Select(name => name.GetString()!)];

    public JsonElement Output(string name) => Json.GetProperty("outputs").EnumerateArray().Single(output => output.GetProperty("name").GetString() == name);

    public double[] Attributions(string name) => ExplainRequests.Floats(Output(name).GetProperty("data"));

    /// <summary>Row <paramref name="row"/>'s attributions summed over every attributed input.</summary>
    public double RowSum(int row)
    {
        var rows = Prediction.Length;
        return Json.GetProperty("outputs").EnumerateArray()
            .Sum(output =>
            {
                var values = ExplainRequests.Floats(output.GetProperty("data"));
                var perRow = values.Length / rows;
                return values.Skip(row * perRow).Take(perRow).Sum();
            });
    }

    /// <summary>Attributions add up to f(x) - f(baseline) on every row, within <paramref name="tolerance"/>.</summary>
    public void ShouldBeAdditive(double tolerance)
    {
        for (var row = 0; row < Prediction.Length; row++)
        {
            RowSum(row).Should().BeApproximately(Prediction[row] - BaselinePrediction[row], tolerance, $"row {row} adds up to f(x) - f(baseline)");
        }
    }
}
