using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace NodeCache.Peers;

/// <summary>
/// What the kernel knows of one TCP connection (Linux <c>TCP_INFO</c>): whether its handshake is done, and whether the other
/// end has acknowledged what was sent. The other end's network stack answers for it, whatever load the agents at either
/// end are under, and the answer does not wait for this process to be scheduled.
/// </summary>
/// <param name="Established">The handshake is done and neither end has closed.</param>
/// <param name="Unacknowledged">Segments sent that the other end has not acknowledged.</param>
internal readonly record struct TcpState(bool Established, uint Unacknowledged)
{
    private const int TcpLevel = 6;
    private const int TcpInfoOption = 11;

    // struct tcp_info (include/uapi/linux/tcp.h), which only ever grows: tcpi_state is its first byte, tcpi_unacked the u32 at 24.
    private const int UnackedOffset = 24;
    private const int Needed = UnackedOffset + sizeof(uint);
    private const byte TcpEstablished = 1;

    /// <summary>The connection's state, or null where the kernel does not say (not Linux, or the socket is closed).</summary>
    public static TcpState? Read(Socket socket)
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }
        Span<byte> info = stackalloc byte[256];
        try
        {
            if (socket.GetRawSocketOption(TcpLevel, TcpInfoOption, info) < Needed)
            {
                return null;
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            return null;
        }
        return new TcpState(info[0] == TcpEstablished, MemoryMarshal.Read<uint>(info[UnackedOffset..]));
    }
}
