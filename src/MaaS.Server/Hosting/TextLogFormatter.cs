using System.Globalization;
using Serilog.Events;
using Serilog.Formatting;
using Serilog.Formatting.Display;
using Serilog.Formatting.Json;
using Serilog.Parsing;

namespace MaaS.Server.Hosting;

/// <summary>
/// The server's text log line, <c>[{Timestamp:HH:mm:ss} {Level:u3}] {SourceContext}: {Message:lj}{NewLine}{Exception}</c>,
/// written straight to the output: the same text Serilog's <see cref="MessageTemplateTextFormatter"/> writes for that
/// template, which took ~3.4% of a tiny request's CPU on the log writer's thread (the generic output-template walk, and
/// a string per property). Events whose message template aligns a property are left to Serilog's formatter.
/// </summary>
internal sealed class TextLogFormatter : ITextFormatter
{
    public const string Template = "[{Timestamp:HH:mm:ss} {Level:u3}] {SourceContext}: {Message:lj}{NewLine}{Exception}";

    private static readonly string[] Levels = ["VRB", "DBG", "INF", "WRN", "ERR", "FTL"];

    private readonly MessageTemplateTextFormatter _general = new(Template, CultureInfo.InvariantCulture);
    private readonly JsonValueFormatter _json = new(typeTagName: "$type");

    public void Format(LogEvent logEvent, TextWriter output)
    {
        if (!IsPlain(logEvent))
        {
            _general.Format(logEvent, output);
            return;
        }

        Span<char> time = stackalloc char[8];
        logEvent.Timestamp.TryFormat(time, out var written, "HH:mm:ss", CultureInfo.InvariantCulture);
        output.Write('[');
        output.Write(time[..written]);
        output.Write(' ');
        output.Write(Levels[(int)logEvent.Level]);
        output.Write("] ");
        if (logEvent.Properties.TryGetValue("SourceContext", out var source))
        {
            WriteLiteral(source, output);
        }

        output.Write(": ");
        foreach (var token in logEvent.MessageTemplate.Tokens)
        {
            if (token is TextToken text)
            {
                output.Write(text.Text);
            }
            else
            {
                // Serilog's {Message:lj}: a string as it is, a value without a format of its own as JSON, else the value
                // rendered with its format; a property the event lacks as its token.
                var property = (PropertyToken)token;
                if (!logEvent.Properties.TryGetValue(property.PropertyName, out var value))
                {
                    output.Write(property.ToString());
                }
                else if (value is ScalarValue { Value: string s })
                {
                    output.Write(s);
                }
                else if (!TryWriteNumber(value, property.Format, output))
                {
                    if (property.Format is null)
                    {
                        _json.Format(value, output);
                    }
                    else
                    {
                        value.Render(output, property.Format, CultureInfo.InvariantCulture);
                    }
                }
            }
        }

        output.Write(Environment.NewLine);
        if (logEvent.Exception is { } exception)
        {
            output.Write(exception.ToString());
            output.Write(Environment.NewLine);
        }
    }

    // {SourceContext} in an output template: a string as it is, anything else as its own rendering.
    private static void WriteLiteral(LogEventPropertyValue value, TextWriter output)
    {
        if (value is ScalarValue { Value: string s })
        {
            output.Write(s);
        }
        else
        {
            value.Render(output, format: null, CultureInfo.InvariantCulture);
        }
    }

    // Integers as JSON, and any number with a format of its own, written from the stack: what Serilog writes for them
    // (the invariant culture's ToString), without a string per value.
    private static bool TryWriteNumber(LogEventPropertyValue value, string? format, TextWriter output)
    {
        if (value is not ScalarValue { Value: ISpanFormattable number }
            || (format is null && number is not (int or long or uint or ulong or short or ushort or byte or sbyte)))
        {
            return false;
        }

        Span<char> text = stackalloc char[64];
        if (!number.TryFormat(text, out var written, format, CultureInfo.InvariantCulture))
        {
            return false;
        }

        output.Write(text[..written]);
        return true;
    }

    // Alignment pads a property to a width: rare in this server's messages, and left to Serilog's formatter.
    private static bool IsPlain(LogEvent logEvent)
    {
        foreach (var token in logEvent.MessageTemplate.Tokens)
        {
            if (token is PropertyToken { Alignment: not null })
            {
                return false;
            }
        }

        return true;
    }
}
