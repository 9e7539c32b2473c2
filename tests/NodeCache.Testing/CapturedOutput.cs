using System.Text;

namespace NodeCache.Testing;

/// <summary>What a child process wrote, line by line, kept in memory for assertions and copied to a log file for post-mortems.</summary>
public sealed class CapturedOutput : IDisposable
{
    private readonly Lock _gate = new();
    private readonly List<OutputLine> _lines = [];
    private readonly StreamWriter? _file;
    private TaskCompletionSource _changed = NewSignal();

    public CapturedOutput(string? logPath)
    {
        if (logPath is not null)
        {
            _file = new StreamWriter(new FileStream(logPath, FileMode.Append, FileAccess.Write, FileShare.ReadWrite), Encoding.UTF8) { AutoFlush = true };
        }
    }

    public string? LogPath => (_file?.BaseStream as FileStream)?.Name;

    public void Add(OutputStream stream, string line)
    {
        TaskCompletionSource changed;
        lock (_gate)
        {
            _lines.Add(new OutputLine(stream, line, DateTimeOffset.UtcNow));
            _file?.WriteLine(stream == OutputStream.Stderr ? "[err] " + line : line);
            changed = _changed;
            _changed = NewSignal();
        }
        changed.TrySetResult();
    }

    public IReadOnlyList<OutputLine> Lines()
    {
        lock (_gate)
        {
            return [.. _lines];
        }
    }

    public IReadOnlyList<string> Lines(OutputStream stream)
    {
        lock (_gate)
        {
            return [.. _lines.Where(l => l.Stream == stream).Select(l => l.Text)];
        }
    }

    public string Text()
    {
        lock (_gate)
        {
            return string.Join('\n', _lines.Select(l => l.Text));
        }
    }

    /// <summary>The last lines, both streams interleaved, for exception messages.</summary>
    public string Tail(int count = 40)
    {
        lock (_gate)
        {
            return string.Join('\n', _lines.Skip(Math.Max(0, _lines.Count - count)).Select(l => l.Text));
        }
    }

    /// <summary>Completes when any line so far (or a later one) satisfies the predicate.</summary>
    public async Task<OutputLine> WaitForLineAsync(Func<OutputLine, bool> predicate, CancellationToken cancellationToken)
    {
        var seen = 0;
        while (true)
        {
            Task changed;
            lock (_gate)
            {
                for (; seen < _lines.Count; seen++)
                {
                    if (predicate(_lines[seen]))
                    {
                        return _lines[seen];
                    }
                }
                changed = _changed.Task;
            }
            await changed.WaitAsync(cancellationToken);
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _file?.Dispose();
        }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}

public enum OutputStream
{
    Stdout,
    Stderr,
}

public readonly record struct OutputLine(OutputStream Stream, string Text, DateTimeOffset At);
