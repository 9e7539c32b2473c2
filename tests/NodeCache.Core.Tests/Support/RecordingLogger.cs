using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace NodeCache.Core.Tests.Support;

/// <summary>Keeps every message at every level, with its structured values and exception, for tests that specify what gets logged.</summary>
internal sealed class RecordingLogger : ILogger
{
    public ConcurrentQueue<(LogLevel Level, string Message)> Entries { get; } = new();

    private readonly ConcurrentQueue<string> _text = new();

    /// <summary>Every entry as one line of text: level, message, structured values and exception.</summary>
    public string AllText => string.Join('\n', _text);

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        var message = formatter(state, exception);
        var values = state is IEnumerable<KeyValuePair<string, object?>> pairs ? string.Join(' ', pairs.Select(p => $"{p.Key}={p.Value}")) : "";
        Entries.Enqueue((logLevel, message));
        _text.Enqueue($"{logLevel}: {message} | {values} | {exception}");
    }
}
