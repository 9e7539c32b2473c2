using System.Diagnostics;

namespace NodeCache.Fill;

/// <summary>
/// Watches the body of an origin that is not the last resort: a read that waits longer than the stall timeout is
/// cancelled, and a whole window received more slowly than the minimum rate marks the origin as far too slow.
/// </summary>
internal sealed class TransferWatch : IDisposable
{
    private readonly OriginPace _pace;
    private readonly CancellationToken _stopping;
    private readonly CancellationTokenSource _stall;
    private long _windowStarted = Stopwatch.GetTimestamp();
    private long _windowBytes;

    public TransferWatch(OriginPace pace, CancellationToken stopping)
    {
        _pace = pace;
        _stopping = stopping;
        _stall = CancellationTokenSource.CreateLinkedTokenSource(stopping);
    }

    /// <summary>True when the last read was cancelled because no bytes came in time, not because the agent is stopping.</summary>
    public bool Stalled => _stall.IsCancellationRequested && !_stopping.IsCancellationRequested;

    /// <summary>The token for the next read: it is cancelled when no bytes arrive within the stall timeout.</summary>
    public CancellationToken NextRead()
    {
        _stall.CancelAfter(_pace.StallTimeout);
        return _stall.Token;
    }

    /// <summary>Counts bytes just read; true when the window they close was far too slow.</summary>
    public bool TooSlow(int read)
    {
        _windowBytes += read;
        var elapsed = Stopwatch.GetElapsedTime(_windowStarted);
        if (elapsed < _pace.Window)
        {
            return false;
        }
        var rate = _windowBytes / elapsed.TotalSeconds;
        Restart();
        return rate < _pace.MinBytesPerSecond;
    }

    /// <summary>Starts a new window: time the fill spent paced by a prefetch's bandwidth is not the origin's slowness.</summary>
    public void Restart()
    {
        _windowStarted = Stopwatch.GetTimestamp();
        _windowBytes = 0;
    }

    public void Dispose() => _stall.Dispose();
}
