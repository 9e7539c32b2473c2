using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;

namespace NodeCache.Peers;

/// <summary>
/// Whether one request has reached the member it is for, as the member's network stack says rather than its agent: the
/// member accepted a connection, or acknowledged the request's bytes on a connection kept alive from before. A member that
/// does neither within the connect timeout, and sent nothing on any other connection meanwhile, is gone for this request
/// (a crashed or partitioned node, a blackholed link) and is given up at once, without waiting for the HTTP handler to
/// report it; one that did is there, and its answer is waited for up to the response timeout, since an owner starting a
/// fill first waits for Harbor's headers itself.
/// </summary>
/// <remarks>
/// The connection a request goes over is learnt twice: the connect callback reports the one it opens for the request, and
/// the connection's stream reports each write to the request whose flow makes it (the handler writes a request from that
/// request's own flow, whichever pooled connection it took).
/// </remarks>
internal sealed class PeerReach
{
    private static readonly HttpRequestOptionsKey<PeerReach> Key = new("nodecache.peer-reach");
    private static readonly AsyncLocal<PeerReach?> Writing = new();

    private readonly TimeSpan _limit;
    private readonly long _asked = Stopwatch.GetTimestamp();
    private readonly Lock _gate = new();
    private Socket? _socket;
    private PeerLastHeard? _heard;
    private long _connectStarted;
    private bool _connected;
    private long _written;

    /// <param name="limit">The connect timeout: how long the member's network stack has to answer.</param>
    public PeerReach(HttpRequestMessage request, TimeSpan limit)
    {
        _limit = limit;
        request.Options.Set(Key, this);
    }

    /// <summary>Since the request was made.</summary>
    public TimeSpan Elapsed => Stopwatch.GetElapsedTime(_asked);

    /// <summary>The request's reach, for the connect callback, which is told the request a connection is opened for.</summary>
    public static PeerReach? Of(HttpRequestMessage? request) => request is not null && request.Options.TryGetValue(Key, out var reach) ? reach : null;

    /// <summary>From here on, the calling flow's writes to peer connections are this request's.</summary>
    public void ClaimWrites() => Writing.Value = this;

    /// <summary>A connection to the member is being opened for the request.</summary>
    public void Connecting(Socket socket, PeerLastHeard heard)
    {
        lock (_gate)
        {
            (_socket, _heard, _connectStarted, _connected, _written) = (socket, heard, Stopwatch.GetTimestamp(), false, 0);
        }
    }

    /// <summary>The connection the request opened is established.</summary>
    public void Connected(Socket socket)
    {
        lock (_gate)
        {
            _connected |= _socket == socket;
        }
    }

    /// <summary>
    /// Bytes were just handed to <paramref name="socket"/>'s kernel: they belong to the request whose flow wrote them (or,
    /// written outside any request's flow, to <paramref name="openedFor"/>), and have waited for an acknowledgement since at
    /// most now.
    /// </summary>
    public static void Wrote(Socket socket, PeerLastHeard heard, PeerReach? openedFor)
    {
        if ((Writing.Value ?? openedFor) is { } reach)
        {
            lock (reach._gate)
            {
                (reach._socket, reach._heard, reach._connected, reach._written) = (socket, heard, true, Stopwatch.GetTimestamp());
            }
        }
    }

    /// <summary>
    /// Waits until <paramref name="answer"/> completes, or until the member is found gone: returns why it is, or null once
    /// the answer came or <paramref name="cancellationToken"/> ended the wait.
    /// </summary>
    public async Task<string?> SilenceAsync(Task answer, CancellationToken cancellationToken)
    {
        var wait = _limit - Elapsed;
        while (true)
        {
            var pause = Task.Delay(wait > TimeSpan.Zero ? wait : TimeSpan.FromMilliseconds(1), cancellationToken);
            if (await Task.WhenAny(answer, pause).ConfigureAwait(false) == answer || cancellationToken.IsCancellationRequested)
            {
                return null;
            }
            (var silence, wait) = Judge();
            if (silence is not null)
            {
                return silence;
            }
        }
    }

    // What is known now, and when to look again when it is not enough.
    private (string? Silence, TimeSpan Recheck) Judge()
    {
        Socket? socket;
        PeerLastHeard? heard;
        long connectStarted, written;
        bool connected;
        lock (_gate)
        {
            (socket, heard, connectStarted, connected, written) = (_socket, _heard, _connectStarted, _connected, _written);
        }
        if (socket is null)
        {
            // Not yet on a connection: the handler has not started one for it yet.
            return (null, _limit / 4);
        }
        if (heard?.Since is { } since && since < _limit)
        {
            // The member sent bytes on another connection just now: it is there, however its link treats this request.
            return (null, _limit - since);
        }
        var kernel = TcpState.Read(socket);
        if (!connected && kernel is not { Established: true })
        {
            // Where the kernel does not say (the handler closed the socket, or not Linux), this process's view of the connect.
            var connecting = Stopwatch.GetElapsedTime(connectStarted);
            return connecting >= _limit ? ($"no connection within {Milliseconds(_limit)} ms", default) : (null, _limit - connecting);
        }
        if (kernel is { Established: true, Unacknowledged: > 0 } && written != 0)
        {
            // Retransmissions restart the kernel's own clock of the last send: the time is this process's, from the write.
            var waiting = Stopwatch.GetElapsedTime(written);
            return waiting >= _limit
                ? ($"the request went unacknowledged for {Milliseconds(waiting)} ms on an open connection", default)
                : (null, _limit - waiting);
        }
        // Acknowledged: the member is there. Look again now and then, as the handler may move the request to a new connection.
        return (null, _limit);
    }

    private static string Milliseconds(TimeSpan time) => time.TotalMilliseconds.ToString("0", CultureInfo.InvariantCulture);
}
