using System.Collections.Concurrent;
using System.Net.Sockets;

namespace NodeCache.Peers;

/// <summary>
/// Opens the HTTP handler's connections to other agents, as the handler would (no Nagle), with two more things. A connection
/// whose peer's network stack stops answering does not wait in the pool to be reused, nor keep a request waiting for the
/// response timeout: TCP keepalive probes it once it has been idle for the stall timeout, and TCP_USER_TIMEOUT closes it
/// when a probe, or any data, goes unacknowledged for a second (and ends a connect that gets no answer for as long). And
/// each connection is reported to the request it is opened for, so that <see cref="PeerReach"/> can tell a member that
/// does not accept it from one that is slow to answer.
/// </summary>
internal static class PeerSockets
{
    private const int TcpLevel = 6;
    private const int UserTimeoutOption = 18;

    private static readonly TimeSpan Unacknowledged = TimeSpan.FromSeconds(1);

    /// <param name="idleBeforeProbe">Idle time before the first keepalive probe, in whole seconds (at least one).</param>
    public static Func<SocketsHttpConnectionContext, CancellationToken, ValueTask<Stream>> Connect(TimeSpan idleBeforeProbe)
    {
        var idleSeconds = Math.Max(1, (int)Math.Ceiling(idleBeforeProbe.TotalSeconds));
        // One entry per member address: the cluster's agents.
        var members = new ConcurrentDictionary<string, PeerLastHeard>(StringComparer.OrdinalIgnoreCase);
        return async (context, cancellationToken) =>
        {
            var heard = members.GetOrAdd($"{context.DnsEndPoint.Host}:{context.DnsEndPoint.Port}", _ => new PeerLastHeard());
            var socket = Open(idleSeconds);
            var reach = PeerReach.Of(context.InitialRequestMessage);
            reach?.Connecting(socket, heard);
            try
            {
                await socket.ConnectAsync(context.DnsEndPoint, cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
            reach?.Connected(socket);
            return new PeerSocketStream(socket, heard, reach);
        };
    }

    private static Socket Open(int idleSeconds)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, true);
            socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveTime, idleSeconds);
            socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveInterval, (int)Unacknowledged.TotalSeconds);
            if (OperatingSystem.IsLinux())
            {
                socket.SetRawSocketOption(TcpLevel, UserTimeoutOption, BitConverter.GetBytes((int)Unacknowledged.TotalMilliseconds));
            }
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
