using System.Text;
using Serilog.Core;
using Serilog.Events;
using Serilog.Formatting;

namespace MaaS.Server.Hosting;

/// <summary>
/// Log events rendered by <paramref name="formatter"/> into a buffer over the process's stdout, written out by
/// <see cref="Flush"/>: one write per pass of <see cref="BackgroundLogWriter"/>, not one per line. Used when stdout is
/// not a terminal (containers, services, files); a terminal keeps Serilog's coloured console sink.
/// </summary>
internal sealed class StdoutLogSink(ITextFormatter formatter) : ILogEventSink, IDisposable
{
    // A stream of its own over the stdout descriptor (a duplicate of it): disposing it leaves Console.Out working.
    private readonly StreamWriter _output = new(Console.OpenStandardOutput(), new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), 64 * 1024)
    {
        AutoFlush = false,
    };

    public void Emit(LogEvent logEvent) => formatter.Format(logEvent, _output);

    public void Flush() => _output.Flush();

    public void Dispose() => _output.Dispose();
}
