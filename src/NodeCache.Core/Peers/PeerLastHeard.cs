using System.Diagnostics;

namespace NodeCache.Peers;

/// <summary>
/// When bytes last arrived from one member, on any connection to it. A member that is sending is there: a request of
/// its that waits for an acknowledgement (on a link it keeps full, or one that drops packets) is not given up for that.
/// </summary>
internal sealed class PeerLastHeard
{
    private long _at;

    /// <summary>Since bytes last arrived; null before any did.</summary>
    public TimeSpan? Since => Volatile.Read(ref _at) is var at and not 0 ? Stopwatch.GetElapsedTime(at) : null;

    public void Heard() => Volatile.Write(ref _at, Stopwatch.GetTimestamp());
}
