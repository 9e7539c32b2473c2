using System.Diagnostics;
using System.Globalization;

namespace NodeCache.Fill;

/// <summary>
/// Watches the body of an origin that is not the last resort: a read that waits longer than the stall timeout is
/// cancelled, and a whole window is far too slow when it is under the minimum rate, or under a quarter of what the
/// agent's other watched transfers got in their last windows (<see cref="TransferRates"/>).
/// </summary>
internal sealed class TransferWatch : IDisposable
{
    // A transfer this far behind the ones beside it is not sharing a busy link with them: its sender is failing.
    private const double OutlierShare = 0.25;

    private readonly OriginPace _pace;
    private readonly TransferRates _rates;
    private readonly CancellationToken _stopping;
    private readonly CancellationTokenSource _stall;
    private long _windowStarted = Stopwatch.GetTimestamp();
    private long _windowBytes;

    public TransferWatch(OriginPace pace, TransferRates rates, CancellationToken stopping)
    {
        _pace = pace;
        _rates = rates;
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

    /// <summary>
    /// Counts bytes just read; when they close a window that was far too slow, says how slow. A minimum rate of 0 judges no
    /// rate at all.
    /// </summary>
    public string? TooSlow(int read)
    {
        _windowBytes += read;
        var elapsed = Stopwatch.GetElapsedTime(_windowStarted);
        if (elapsed < _pace.Window || _pace.MinBytesPerSecond == 0)
        {
            return null;
        }
        var rate = _windowBytes / elapsed.TotalSeconds;
        Restart();
        var others = _rates.Report(this, rate);
        if (rate < _pace.MinBytesPerSecond)
        {
            return string.Create(CultureInfo.InvariantCulture, $"{rate:0} bytes/s over {elapsed.TotalSeconds:0.#} s, under the minimum of {_pace.MinBytesPerSecond} bytes/s");
        }
        if (others is { } median && rate < median * OutlierShare)
        {
            return string.Create(CultureInfo.InvariantCulture, $"{rate:0} bytes/s over {elapsed.TotalSeconds:0.#} s, under a quarter of the {median:0} bytes/s of this agent's other transfers from peers");
        }
        return null;
    }

    /// <summary>Starts a new window: time the fill spent paced by a prefetch's bandwidth is not the origin's slowness.</summary>
    public void Restart()
    {
        _windowStarted = Stopwatch.GetTimestamp();
        _windowBytes = 0;
    }

    public void Dispose()
    {
        _rates.Remove(this);
        _stall.Dispose();
    }
}
