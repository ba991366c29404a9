using System.Globalization;
using MaaS.Server.Hosting;
using Serilog.Events;
using Serilog.Formatting.Display;
using Serilog.Parsing;

namespace MaaS.Server.Tests.Hosting;

/// <summary>
/// The server's text log line against Serilog's own formatter for the same output template: the reference is what
/// Serilog writes, for every kind of value a message can carry.
/// </summary>
public sealed class TextLogFormatterTests
{
    private static readonly MessageTemplateParser Parser = new();

    public static TheoryData<string> Templates() => new()
    {
        RequestLogMiddleware.TemplateText,
        "plain text, no properties, braces {{escaped}}",
        "Loaded {Model} with {Count} instances, ratio {Ratio}, ok {Ok}, at {When}, tags {Tags}, shape {Shape}, null {Nothing}",
        "Aligned {StatusCode,5} and {Model,-8}|",
        "Missing {NotThere} and {Model}",
        "Formats {Count:D4} {Ratio:F3} {Model:l} {When:yyyy-MM-dd}",
        "Positional {0} and {1}",
    };

    [Theory]
    [MemberData(nameof(Templates))]
    public void Format_AnyTemplate_WritesWhatSerilogWrites(string template)
    {
        foreach (var level in Enum.GetValues<LogEventLevel>())
        {
            foreach (var exception in new Exception?[] { null, new InvalidOperationException("broken\nacross lines") })
            {
                foreach (var withSource in new[] { true, false })
                {
                    var logEvent = Event(template, level, exception, withSource);

                    Ours(logEvent).Should().Be(Serilogs(logEvent), $"level {level}, exception {exception is not null}, source {withSource}");
                }
            }
        }
    }

    [Fact]
    public void Format_RequestLine_ReadsAsExpected()
    {
        var logEvent = Event(RequestLogMiddleware.TemplateText, LogEventLevel.Information, null, withSource: true);

        Ours(logEvent).Should().Be(
            "[13:45:07 INF] MaaS.Server.Hosting.RequestLogMiddleware: HTTP POST /v2/models/mlp/infer model=mlp version=1 responded 200 (gRPC OK) in 0.4 ms (in 86 B, out 141 B, id 0HN:0001)"
            + Environment.NewLine);
    }

    private static string Ours(LogEvent logEvent)
    {
        using var output = new StringWriter(CultureInfo.InvariantCulture);
        new TextLogFormatter().Format(logEvent, output);
        return output.ToString();
    }

    private static string Serilogs(LogEvent logEvent)
    {
        using var output = new StringWriter(CultureInfo.InvariantCulture);
        new MessageTemplateTextFormatter(TextLogFormatter.Template, CultureInfo.InvariantCulture).Format(logEvent, output);
        return output.ToString();
    }

    private static LogEvent Event(string template, LogEventLevel level, Exception? exception, bool withSource)
    {
        var properties = new List<LogEventProperty>
        {
            new("RequestMethod", new ScalarValue("POST")),
            new("RequestPath", new ScalarValue("/v2/models/mlp/infer")),
            new("ModelName", new ScalarValue("mlp")),
            new("ModelVersion", new ScalarValue(1L)),
            new("StatusCode", new ScalarValue(200)),
            new("GrpcStatus", new ScalarValue(" (gRPC OK)")),
            new("Elapsed", new ScalarValue(0.4321)),
            new("BytesIn", new ScalarValue("86")),
            new("BytesOut", new ScalarValue("141")),
            new("RequestId", new ScalarValue("0HN:0001")),
            new("Model", new ScalarValue("cnn \"quoted\"")),
            new("Count", new ScalarValue(3)),
            new("Ratio", new ScalarValue(0.1 + 0.2)),
            new("Ok", new ScalarValue(true)),
            new("When", new ScalarValue(new DateTimeOffset(2026, 12, 4, 13, 45, 7, TimeSpan.Zero))),
            new("Tags", new SequenceValue([new ScalarValue("a"), new ScalarValue(2)])),
            new("Shape", new StructureValue([new LogEventProperty("Rows", new ScalarValue(1)), new LogEventProperty("Name", new ScalarValue("x"))], "Shape")),
            new("Nothing", new ScalarValue(null)),
            new("0", new ScalarValue("first")),
            new("1", new ScalarValue(2.5f)),
        };
        if (withSource)
        {
            properties.Add(new LogEventProperty("SourceContext", new ScalarValue("MaaS.Server.Hosting.RequestLogMiddleware")));
        }

        return new LogEvent(new DateTimeOffset(2026, 12, 4, 13, 45, 7, 250, TimeSpan.FromHours(1)), level, exception, Parser.Parse(template), properties);
    }
}
