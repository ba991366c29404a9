namespace MaaS.Server.Hosting;

/// <summary>
/// The logger of ASP.NET Core's hosting layer (<see cref="Category"/>): writes what that layer logs unconditionally (an
/// application startup exception, at Critical), and answers <see cref="IsEnabled"/> with false at every level.
/// </summary>
/// <remarks>
/// For every request, hosting asks this logger <c>IsEnabled(Critical)</c>; when it is true, it starts an
/// <see cref="System.Diagnostics.Activity"/> and a logging scope for the request whether anything reads them or not.
/// Serilog answers true at Critical for every category (Fatal is its highest level), so every request paid for both:
/// on the tiny model at c=16, without them the server answered 1.04-1.13x the requests per second, side by side
/// (docs/performance.md, "The hosting layer's activity").
/// What they carried is kept: with tracing on, hosting still starts the request's activity for the tracer's listener;
/// the request log line takes its trace id from that activity, or else from the caller's <c>traceparent</c> header.
/// Hosting's own request-starting and request-finished lines (Information) are not written at any level: the request
/// log line replaces them.
/// </remarks>
internal sealed class HostingDiagnosticsLogger(ILogger inner) : ILogger
{
    public const string Category = "Microsoft.AspNetCore.Hosting.Diagnostics";

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => false;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        inner.Log(logLevel, eventId, state, exception, formatter);
}
